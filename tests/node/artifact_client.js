// GitHub's own artifact client (@actions/artifact, pinned in tools/node) driven against our fake
// results service: the judge of tests/servers/results_service.py. One JSON line on stdout per call.
//
//   node artifact_client.js upload NAME ROOT FILE...            (uses ACTIONS_RUNTIME_TOKEN/_RESULTS_URL)
//   node artifact_client.js list                                (this run, through the results service)
//   node artifact_client.js list-public RUN_ID                  (REST, GITHUB_TOKEN, GITHUB_API_URL)
//   node artifact_client.js get-public NAME RUN_ID
//   node artifact_client.js download-public ID DIR
//   node artifact_client.js download ID DIR                     (this run, through the results service)
'use strict'
const path = require('path')
const { DefaultArtifactClient } = require(path.join(__dirname, '..', '..', 'tools', 'node', 'node_modules',
  '@actions', 'artifact'))

async function main (argv) {
  const client = new DefaultArtifactClient()
  const [command, ...args] = argv
  const [owner, repo] = (process.env.GITHUB_REPOSITORY || '/').split('/')
  const findBy = (runId) => ({
    token: process.env.GITHUB_TOKEN, workflowRunId: Number(runId), repositoryOwner: owner, repositoryName: repo
  })
  switch (command) {
    case 'upload': {
      const [name, root, ...files] = args
      const out = await client.uploadArtifact(name, files.map(f => path.join(root, f)), root,
        { retentionDays: Number(process.env.RETENTION_DAYS || 0) || undefined })
      return out
    }
    case 'list':
      return client.listArtifacts()
    case 'list-public':
      return client.listArtifacts({ findBy: findBy(args[0]) })
    case 'get-public':
      return client.getArtifact(args[0], { findBy: findBy(args[1]) })
    case 'download-public':
      return client.downloadArtifact(Number(args[0]),
        { path: args[1], findBy: findBy(0), expectedHash: process.env.EXPECTED_HASH || undefined })
    case 'download':
      return client.downloadArtifact(Number(args[0]),
        { path: args[1], expectedHash: process.env.EXPECTED_HASH || undefined })
    default:
      throw new Error(`unknown command ${command}`)
  }
}

main(process.argv.slice(2)).then(
  // @actions/core logs to stdout too: the result is the line that starts with the marker
  result => { process.stdout.write('AQE-RESULT ' + JSON.stringify(result) + '\n') },
  error => { process.stderr.write(`artifact_client: ${error.stack || error}\n`); process.exit(1) }
)
