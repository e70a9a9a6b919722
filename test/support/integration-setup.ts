// Integration tests talk to real services; broker start-up and group joins take seconds.
jest.setTimeout(180_000);
