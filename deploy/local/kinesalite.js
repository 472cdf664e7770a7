// Runs kinesalite (a Kinesis stand-in) on 127.0.0.1 only. Its CLI has no host
// flag and would bind every interface, so we use its JS API instead.
//
//   node deploy/local/kinesalite.js PORT
//
// Module resolution: standins.sh sets NODE_PATH to the cached node_modules.
// No `path` option is passed, so kinesalite keeps its data in memory
// (memdown) and never needs the native leveldown addon. The *StreamMs
// delays are 0 so a stream turns ACTIVE on the next event-loop turn after
// CreateStream (callers still wait for ACTIVE, as on AWS, but only briefly).
'use strict'
const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node kinesalite.js PORT')
  process.exit(2)
}
const server = require('kinesalite')({
  createStreamMs: 0,
  deleteStreamMs: 0,
  updateStreamMs: 0,
  shardLimit: 100,
})
server.on('error', (err) => {
  console.error('kinesalite: ' + err.message)
  process.exit(1)
})
server.listen(port, '127.0.0.1', () => {
  console.log('kinesalite listening on 127.0.0.1:' + port)
})
// Exit promptly on the signals a test harness or shell sends.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0))
