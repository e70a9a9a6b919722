import http from 'node:http';

// Integration tests talk to real services; broker start-up and group joins take seconds.
jest.setTimeout(180_000);

// The tests' own registry client (@kafkajs/confluent-schema-registry, through Node's default
// agent) opens a connection per request. With Node's keep-alive default, a CI run saw a
// register hang after its first request (the registry never received the second; dump.test's
// beforeAll ran into its 180 s timeout): a connection per request rules a reused socket out.
http.globalAgent = new http.Agent({ keepAlive: false });
