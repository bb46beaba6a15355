// Admin swaps as operators send them (`edgesearch pool swap`, tests): a JSON body signed with the
// admin key for one node, method and path, with a fresh nonce (shared/protocol/signature.ts).
import { adminSignatureHeaders, importSigningKey } from '../../../shared/protocol/index.ts';

export const ADMIN_SWAP_PATH = '/v1/admin/swap';

/** A signed swap request, as bytes and headers (sendable once: its nonce is then spent). */
export interface SignedSwap {
  body: Uint8Array;
  headers: Record<string, string>;
}

/** Signs `request` (`{shard, dir}`, or any JSON a test sends) with the admin key `secret`, for node `node`. */
export async function signSwap(secret: string, node: string, request: unknown): Promise<SignedSwap> {
  const body = new TextEncoder().encode(JSON.stringify(request));
  const headers = await adminSignatureHeaders(await importSigningKey(secret), { method: 'POST', path: ADMIN_SWAP_PATH, node }, body);
  return { body, headers: { 'content-type': 'application/json', ...headers } };
}

/** POSTs a signed swap to the node at `nodeUrl`. */
export function sendSwap(nodeUrl: string, swap: SignedSwap): Promise<Response> {
  return fetch(new URL(ADMIN_SWAP_PATH, nodeUrl), { method: 'POST', body: swap.body as Uint8Array<ArrayBuffer>, headers: swap.headers });
}
