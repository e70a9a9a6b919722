// A long local run (FUZZ_RUNS=200000) takes minutes per property: the timeout grows with it.
import { FUZZ_RUNS } from './support';

jest.setTimeout(Math.max(60_000, FUZZ_RUNS * 20));
