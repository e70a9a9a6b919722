// The only door to kafkajs: the wire patch must load first (see wire-patch.ts).
import './wire-patch';
export * from 'kafkajs';
