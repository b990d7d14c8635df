// n8n loads the nodes and credentials listed in package.json's "n8n" section; this entry point only
// exposes the framework-free core for programmatic use (e.g. the command line).
module.exports = {};
