// Pinned host keys live in platform/ since the operator's discovery probe checks them too.
export * from '@switchforge/platform/ssh/host-key';
