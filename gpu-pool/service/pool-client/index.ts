// Sending signed msgpack frames to pool nodes over HTTP (Node side).
export { PoolClient } from './pool-client.ts';
export { ADMIN_SWAP_PATH, sendSwap, signSwap, type SignedSwap } from './admin-swap.ts';
export { TransportError, postFrame, type PostedFrame } from './post-frame.ts';
