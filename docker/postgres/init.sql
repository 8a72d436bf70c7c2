-- One database per service, as in the local launcher.
CREATE DATABASE spine_command;
CREATE DATABASE spine_projector;
