/**
 * What a masked lane records about how it was masked (FORMAT.md settled point 25: a lane
 * snapshot's `lane.masking`; LEDGER.md: the lane ledger's `origin.policy`): the policy's
 * name and SHA-256, the key's fingerprint, and the exact fake-data library version (its
 * output changes between versions, so a lane can only be reproduced with the same one).
 */
import { createHash } from 'node:crypto';
import { InternalError, UsageError } from '../errors';

/** The object of settled point 25, field for field. */
export interface MaskingProvenance {
  policy: string;
  policySha256: string;
  keyFingerprint: string;
  faker: string;
}

/** SHA-256 of the policy file's bytes (a string is taken as its UTF-8 bytes), 64 lowercase hex digits. */
export function policyDigest(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export function policyProvenance(args: {
  /** The policy's name as the user gave it (its file name). */
  policyName: string;
  /** The policy file's bytes, as read. */
  policyText: string | Uint8Array;
  keyFingerprint: string;
  /** The fake-data library, as installed: its package name and exact version. */
  faker: { name: string; version: string };
}): MaskingProvenance {
  const { policyName, faker } = args;
  if (policyName.length < 1 || policyName.length > 255) {
    throw new UsageError(`the policy's name has ${policyName.length} characters; a lane records names of 1 to 255`, 'name the policy file with a shorter path');
  }
  // The rest comes from kbak itself, not from the user: a wrong one is a bug.
  if (!/^[0-9a-f]{16}$/.test(args.keyFingerprint)) throw new InternalError('a masking key fingerprint that is not 16 lowercase hex digits');
  if (!EXACT_VERSION.test(faker.version)) throw new InternalError(`fake-data library version ${JSON.stringify(faker.version)} is not an exact version`);
  const lib = `${faker.name}@${faker.version}`;
  if (faker.name.length === 0 || lib.length > 100) throw new InternalError(`fake-data library ${JSON.stringify(lib)} is not 1 to 100 characters`);
  return { policy: policyName, policySha256: policyDigest(args.policyText), keyFingerprint: args.keyFingerprint, faker: lib };
}
