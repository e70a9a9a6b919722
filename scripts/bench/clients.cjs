// What the bench's node helpers (admin.cjs, gen-avro.cjs) share: the repository's own copies of
// the client libraries, and a kafkajs client for the stack in the environment (.stack/env,
// sourced by bench.sh). Require it first: it quiets the warnings below before they are emitted.
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
// The AWS SDK warns about node 20 on every start, kafkajs's retry timers on node 24
// (TimeoutNegativeWarning); not the bench's business.
process.removeAllListeners('warning');

const path = require('path');

const repo = path.resolve(__dirname, '..', '..');
/** A package as the repository resolves it (the versions in package-lock.json). */
const req = (m) => require(require.resolve(m, { paths: [repo] }));

/** A kafkajs client for KBAK_BROKERS, silent (the bench reports its own errors). */
function kafka(clientId) {
  const { Kafka, logLevel } = req('kafkajs');
  const brokers = (process.env.KBAK_BROKERS || '127.0.0.1:9092').split(',');
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

module.exports = { req, kafka };
