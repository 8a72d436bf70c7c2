// Lists the services `npm run up` starts: every domain declares its own in a spine.services.json beside its code
// (apps/ for the ledger, examples/<domain>/ for the others), so a new domain edits no script.
// Prints one line per service, fields separated by US (\x1f: empty fields stay fields, unlike tabs in bash's read): domain, name, role, entry, port, database, env (k=v;k=v), note.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const files = [path.join(root, 'apps/spine.services.json')];
const examples = path.join(root, 'examples');
for (const dir of fs.existsSync(examples) ? fs.readdirSync(examples).sort() : []) {
  const file = path.join(examples, dir, 'spine.services.json');
  if (fs.existsSync(file)) files.push(file);
}
const roles = ['command', 'relay', 'projector'];
for (const file of files) {
  const { domain, services } = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const s of services) {
    const where = `${path.relative(root, file)}: ${s.name}`;
    if (!roles.includes(s.role)) throw new Error(`${where}: role must be one of ${roles.join(', ')}`);
    if (!fs.existsSync(path.join(root, s.entry))) throw new Error(`${where}: entry ${s.entry} does not exist`);
    if (!/^[a-z_][a-z0-9_]*$/.test(s.database)) throw new Error(`${where}: database must be a plain name`);
    const env = Object.entries(s.env ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(';');
    console.log([domain, s.name, s.role, s.entry, s.port, s.database, env, s.note ?? ''].join('\x1f'));
  }
}
