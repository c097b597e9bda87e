// The gNMI messages live in platform/ since the operator's discovery probe speaks them too.
export * from '@switchforge/platform/gnmi/proto';
