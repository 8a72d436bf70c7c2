/** Prints the configuration reference of every service (README.md embeds it; a unit test keeps the two equal). */
import { configReference } from '../test/config-reference';

process.stdout.write(`${configReference()}\n`);
