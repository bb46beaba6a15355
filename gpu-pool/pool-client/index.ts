// Sending signed msgpack frames to pool nodes over HTTP (Node side).
export { PoolClient } from './pool-client.ts';
export { TransportError, postFrame, type PostedFrame } from './post-frame.ts';
