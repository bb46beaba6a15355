// Generated from the edge's OpenAPI document by packages/client/codegen (npm run client:types).
// Do not edit: the test beside the generator fails when this file and the document differ.

export interface paths {
    "/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The demo page */
        get: operations["demoPage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: operations["openApi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Search: top-k passages for one query */
        post: operations["search"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/search/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Search several queries at once (at most 32); each costs one rate-limit token
         * @description Pool failures, and queries the index cannot answer (bad_request: a mode or rerank it lacks the data for), are reported per query in the results; the request itself still succeeds.
         */
        post: operations["searchBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start a stored conversation (no body); it belongs to the calling key */
        post: operations["createConversation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The stored turns (a call: the idle TTL starts again) */
        get: operations["getConversation"];
        put?: never;
        post?: never;
        /** Erase the conversation (404 afterwards) */
        delete: operations["deleteConversation"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Search the next turn with the stored turns as its context, and store it (with the best passage as its response when `record` is "top")
         * @description The answer is the one POST /v1/search gives with the stored turns as `context` (the same cache entry). The turn is stored only when the search succeeds; turns of one conversation sent together are searched and stored one after another, in the order they arrived, each with exactly the turns stored before it.
         */
        post: operations["conversationSearch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}/turns/{n}/response": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Record what was answered to turn n (replacing a response recorded before); later turns read it under params.policy "concat+responses" */
        put: operations["recordResponse"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Edge and pool status, and the index version last served */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health with every pool router: URL, weight, region, circuit state, readiness and why not ready (scope admin) */
        get: operations["adminHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This isolate’s counters: circuit states, frames and queries sent, coalesced requests, last index version (scope admin) */
        get: operations["adminStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        SearchRequest: {
            /** @description The question or keywords: 1 to 1024 Unicode characters (code points, not UTF-16 code units), not only whitespace; whitespace runs are collapsed (and the text NFC-normalized) before searching. */
            query: string;
            /**
             * @description dense (neural), bm25 (keywords), hybrid (both, fused by reciprocal rank), conversational (ConvDR: the query and its `context` encoded by a pool's conversational encoder over the dense index; a pool without one answers 400), colbert (late interaction: token-level MaxSim; needs an index built with --method colbert, else a 400 naming the index) or phrase (DensePhrases: answer phrases, each with its evidence passage and `span`; needs an index built with --method phrase, else a 400 naming the index; `params.unit` aggregates to sentences, passages or documents). Any mode can be re-ranked with `rerank`.
             * @default hybrid
             * @enum {string}
             */
            mode?: "dense" | "bm25" | "hybrid" | "colbert" | "phrase" | "conversational";
            /**
             * @description How many results.
             * @default 10
             */
            k?: number;
            /** @description Method parameters: nprobe, efSearch, windowFactor, refineFactor (dense; refineFactor on an index built with a refine stage: k × refineFactor candidates are re-scored exactly, default 4); rrfK, weights {dense, bm25} (each defaults to 1; they must not both be 0), depth (hybrid); k1, b (BM25); candidates (colbert: passages per shard re-scored exactly after candidate generation; phrase: phrase starts taken per shard, default 100); depth and weights (phrase: the depth best BM25 passages per shard, default 20, are read whole, and a phrase scores weights.dense × its start + end score + weights.bm25 × the BM25 score of its passage, defaults 1 and 8); unit (phrase: phrase, the default, or sentence, passage, document: phrase scores aggregated by max to that unit); policy (with `context`, every mode but conversational: how the query is formed from the previous turns: raw (the query alone), concat (the default: previous queries then this one), concat+responses (each previous response after its query), first (the first query, then this one) or window:N (the last N previous queries, then this one); encoders cut the oldest turns until the text fits their window). Unknown keys are refused. */
            params?: {
                nprobe?: number;
                efSearch?: number;
                windowFactor?: number;
                refineFactor?: number;
                rrfK?: number;
                /** @enum {string} */
                fusion?: "rrf" | "minmax" | "zscore";
                weights?: {
                    dense?: number;
                    bm25?: number;
                    sentence?: number;
                    context?: number;
                    overlap?: number;
                };
                depth?: number;
                k1?: number;
                b?: number;
                candidates?: number;
                /** @enum {string} */
                unit?: "phrase" | "sentence" | "passage" | "document";
                policy?: string;
            };
            /** @description A second stage: the mode's best `depth` (1 to 1000, default 100; at least k are taken) re-scored by `method` (colbert: MaxSim over the passages' token vectors) and ranked by that score, or with `fuse` by both stages' scores, each z-normalised over the candidates and added with `weight` (0 to 1, default 0.5; only with fuse) on the re-ranker and 1 - weight on the first stage. Hits then carry `branches.first` and `branches.rerank`. Needs an index built with --method colbert (else a 400 naming the index). */
            rerank?: {
                /** @enum {string} */
                method: "colbert";
                /** @default 100 */
                depth?: number;
                /** @default false */
                fuse?: boolean;
                weight?: number;
            };
            /**
             * @description false bypasses the cache and request coalescing: no lookup, the answer is not stored, and the query goes to the pool on its own even while an identical one is in flight, so every request of a load test reaches the pool.
             * @default true
             */
            cache?: boolean;
            /** @description The conversation before this query, oldest first (for chatbots that keep their own history; a stored conversation sends its own): the pool forms the query from these turns and `query` by `params.policy` (default concat). At most 32 turns (MAX_CONTEXT_TURNS) and 16384 characters of queries and responses together (MAX_CONTEXT_CHARS), else a 413 naming the limit. The answer is cached per context: another context is another cache entry. */
            context?: {
                /** @description What was asked in that turn: a query's rules (1 to 1024 characters, not only whitespace; else a 400 naming the turn), normalized like one. */
                query: string;
                /** @description What was answered to that turn (the bot's answer, or an evidence passage): at most 4096 characters, else a 413. */
                response?: string;
            }[];
        };
        BatchRequest: {
            queries: components["schemas"]["SearchRequest"][];
        };
        ConversationSearchRequest: {
            /** @description The question or keywords: 1 to 1024 Unicode characters (code points, not UTF-16 code units), not only whitespace; whitespace runs are collapsed (and the text NFC-normalized) before searching. */
            query: string;
            /**
             * @description dense (neural), bm25 (keywords), hybrid (both, fused by reciprocal rank), conversational (ConvDR: the query and its `context` encoded by a pool's conversational encoder over the dense index; a pool without one answers 400), colbert (late interaction: token-level MaxSim; needs an index built with --method colbert, else a 400 naming the index) or phrase (DensePhrases: answer phrases, each with its evidence passage and `span`; needs an index built with --method phrase, else a 400 naming the index; `params.unit` aggregates to sentences, passages or documents). Any mode can be re-ranked with `rerank`.
             * @default hybrid
             * @enum {string}
             */
            mode?: "dense" | "bm25" | "hybrid" | "colbert" | "phrase" | "conversational";
            /**
             * @description How many results.
             * @default 10
             */
            k?: number;
            /** @description Method parameters: nprobe, efSearch, windowFactor, refineFactor (dense; refineFactor on an index built with a refine stage: k × refineFactor candidates are re-scored exactly, default 4); rrfK, weights {dense, bm25} (each defaults to 1; they must not both be 0), depth (hybrid); k1, b (BM25); candidates (colbert: passages per shard re-scored exactly after candidate generation; phrase: phrase starts taken per shard, default 100); depth and weights (phrase: the depth best BM25 passages per shard, default 20, are read whole, and a phrase scores weights.dense × its start + end score + weights.bm25 × the BM25 score of its passage, defaults 1 and 8); unit (phrase: phrase, the default, or sentence, passage, document: phrase scores aggregated by max to that unit); policy (with `context`, every mode but conversational: how the query is formed from the previous turns: raw (the query alone), concat (the default: previous queries then this one), concat+responses (each previous response after its query), first (the first query, then this one) or window:N (the last N previous queries, then this one); encoders cut the oldest turns until the text fits their window). Unknown keys are refused. */
            params?: {
                nprobe?: number;
                efSearch?: number;
                windowFactor?: number;
                refineFactor?: number;
                rrfK?: number;
                /** @enum {string} */
                fusion?: "rrf" | "minmax" | "zscore";
                weights?: {
                    dense?: number;
                    bm25?: number;
                    sentence?: number;
                    context?: number;
                    overlap?: number;
                };
                depth?: number;
                k1?: number;
                b?: number;
                candidates?: number;
                /** @enum {string} */
                unit?: "phrase" | "sentence" | "passage" | "document";
                policy?: string;
            };
            /** @description A second stage: the mode's best `depth` (1 to 1000, default 100; at least k are taken) re-scored by `method` (colbert: MaxSim over the passages' token vectors) and ranked by that score, or with `fuse` by both stages' scores, each z-normalised over the candidates and added with `weight` (0 to 1, default 0.5; only with fuse) on the re-ranker and 1 - weight on the first stage. Hits then carry `branches.first` and `branches.rerank`. Needs an index built with --method colbert (else a 400 naming the index). */
            rerank?: {
                /** @enum {string} */
                method: "colbert";
                /** @default 100 */
                depth?: number;
                /** @default false */
                fuse?: boolean;
                weight?: number;
            };
            /**
             * @description false bypasses the cache and request coalescing: no lookup, the answer is not stored, and the query goes to the pool on its own even while an identical one is in flight, so every request of a load test reaches the pool.
             * @default true
             */
            cache?: boolean;
            /**
             * @description `top`: store the best hit's passage as this turn's response (CAsT-20's automatic canonical response; cut to fit the conversation's limits and MAX_RESPONSE_CHARS), so `params.policy: "concat+responses"` reads it in later turns. Without it the turn has no response until one is PUT.
             * @enum {string}
             */
            record?: "top";
        };
        RecordResponseRequest: {
            /** @description What was answered to that turn (the bot's answer, or an evidence passage): at most 4096 characters, else a 413. */
            response: string;
        };
        Hit: {
            rank: number;
            docId: string;
            score: number;
            title: string;
            /** @description The evidence passage. */
            text: string;
            shard: number;
            /** @description Mode phrase: the answer phrase (unit sentence: the sentence) as text.slice(start, end), UTF-16 offsets into `text`. Absent for unit passage and other modes. */
            span?: {
                start: number;
                end: number;
                text: string;
            };
            /** @description Per-stage scores and ranks: hybrid’s dense and bm25; a re-ranked query’s first stage (first) and re-ranker (rerank). */
            branches?: {
                dense?: {
                    score: number;
                    rank: number;
                };
                bm25?: {
                    score: number;
                    rank: number;
                };
                first?: {
                    score: number;
                    rank: number;
                };
                rerank?: {
                    score: number;
                    rank: number;
                };
            };
        };
        Timings: {
            /** @description Time in the edge, from the request to the response. */
            edgeMs: number;
            /** @description Time this request waited on the pool: every attempt and the waits between retries, until the answer. Absent for a cached answer. */
            poolMs?: number;
            /** @description Requests to pool routers behind the answer: 1, or more when attempts failed and were retried. Absent for a cached answer. */
            poolAttempts?: number;
        };
        SearchResponse: {
            /** @description The query as searched (normalized). */
            query: string;
            /** @enum {string} */
            mode: "dense" | "bm25" | "hybrid" | "colbert" | "phrase" | "conversational";
            k: number;
            /** @description The index version the hits were computed on. */
            indexVersion: string;
            cached: boolean;
            /** @description Present when some shards did not answer; such answers are never cached. */
            partial?: {
                missingShards: number[];
            };
            hits: components["schemas"]["Hit"][];
            timings: components["schemas"]["Timings"];
        };
        BatchResponse: {
            /** @description One entry per query, in order: a search response, or an error (a pool failure: bad_gateway, pool_unavailable, deadline_exceeded, internal; or bad_request when the index cannot answer the query’s mode or rerank). */
            results: (components["schemas"]["SearchResponse"] | components["schemas"]["Error"])[];
        };
        Error: {
            error: {
                /** @enum {string} */
                code: "bad_request" | "invalid_json" | "unauthorized" | "forbidden" | "not_found" | "payload_too_large" | "unsupported_media_type" | "rate_limited" | "internal" | "bad_gateway" | "pool_unavailable" | "deadline_exceeded";
                /** @description What was wrong, in words; a 5xx message is generic and names the request id. */
                message: string;
                /** @description The request field that was wrong, as a dotted path (`k`, `params.weights`, `queries.3.query`); present whenever a field is at fault, unknown fields included. */
                field?: string;
            };
        };
        Health: {
            /** @constant */
            edge: "ok";
            /** @enum {string} */
            pool: "ok" | "degraded" | "down";
            /** @description The index version this edge last saw the pool answer with. */
            indexVersion?: string;
        };
        AdminHealth: {
            /** @constant */
            edge: "ok";
            /** @enum {string} */
            pool: "ok" | "degraded" | "down";
            /** @description The index version this edge last saw the pool answer with. */
            indexVersion?: string;
            endpoints: {
                url: string;
                region?: string;
                weight: number;
                /** @enum {string} */
                breaker: "closed" | "open" | "half-open";
                ready: boolean;
                /** @description Why the router is not ready (its own words, which may name files). */
                detail?: string;
            }[];
        };
        AdminStats: {
            endpoints: {
                url: string;
                region?: string;
                weight: number;
                /** @enum {string} */
                breaker: "closed" | "open" | "half-open";
            }[];
            /** @description Frames sent to the pool, the queries they carried, and the most in one frame. */
            batches: {
                frames: number;
                queries: number;
                largest: number;
            };
            /** @description Requests that shared an identical request’s pool call. */
            coalesced: number;
            /** @description The index version last seen from the pool (null before the first answer). */
            indexVersion: string | null;
        };
        Conversation: {
            id: string;
            /** @description ISO 8601 time of creation. */
            createdAt: string;
            /** @description ISO 8601 time the conversation is erased unless a call comes first (each call moves it on by the idle TTL). */
            expiresAt: string;
            /** @description UTF-8 bytes of the stored turns. */
            bytes: number;
            /** @description The stored turns, oldest first. */
            turns: components["schemas"]["StoredTurn"][];
            /** @description The limits this conversation is kept under. */
            limits: {
                /** @description Turns kept (CONVERSATION_MAX_TURNS); a turn past it is a 413. */
                maxTurns: number;
                /** @description UTF-8 bytes of one turn, query and response (CONVERSATION_MAX_TURN_BYTES). */
                maxTurnBytes: number;
                /** @description UTF-8 bytes of all turns together (CONVERSATION_MAX_BYTES). */
                maxBytes: number;
                /** @description Seconds without a call after which the conversation is erased (CONVERSATION_TTL_S). */
                ttlS: number;
            };
        };
        ConversationSearchResponse: {
            /** @description The query as searched (normalized). */
            query: string;
            /** @enum {string} */
            mode: "dense" | "bm25" | "hybrid" | "colbert" | "phrase" | "conversational";
            k: number;
            /** @description The index version the hits were computed on. */
            indexVersion: string;
            cached: boolean;
            /** @description Present when some shards did not answer; such answers are never cached. */
            partial?: {
                missingShards: number[];
            };
            hits: components["schemas"]["Hit"][];
            timings: components["schemas"]["Timings"];
            /** @description The conversation id. */
            conversation: string;
            /** @description The number of the turn this search was stored as (1 for the first). */
            turn: number;
        };
        StoredTurn: {
            turn: number;
            /** @description The query as searched (normalized). */
            query: string;
            /** @description The recorded response, when one was PUT or recorded with `record: "top"`. */
            response?: string;
        };
    };
    responses: {
        /** @description `not_found`: no such route */
        NotFound: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "not_found";
                    };
                };
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: {
        /** @description A UUID the edge generated for this request (never the caller’s); 5xx messages name it, and the edge log has the detail under it. */
        RequestId: string;
        /** @description Seconds to wait before retrying. */
        RetryAfter: number;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    demoPage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page that searches this edge. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
        };
    };
    openApi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document of this edge (CORS: any origin). */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
        };
    };
    search: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SearchRequest"];
            };
        };
        responses: {
            /** @description The hits, best first. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchResponse"];
                };
            };
            /** @description `bad_request`: a field is wrong; `field` is its dotted path (unknown fields included), or the index cannot answer the query’s `mode` or `rerank` (colbert on an index built without --method colbert: `field` names which, the message names the index); `invalid_json`: the body does not parse */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "bad_request" | "invalid_json";
                        };
                    };
                };
            };
            /** @description `unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            /** @description `forbidden`: the key lacks the route’s scope */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "forbidden";
                        };
                    };
                };
            };
            /** @description `payload_too_large`: the body is larger than any valid request to the route can be, or a context is larger than its limits (the message names the limit): more than 215040 bytes */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "payload_too_large";
                        };
                    };
                };
            };
            /** @description `unsupported_media_type`: the body is not sent as application/json */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unsupported_media_type";
                        };
                    };
                };
            };
            /** @description `rate_limited`: the caller’s bucket is empty (a batch costs one token per query) */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "rate_limited";
                        };
                    };
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
            /** @description `bad_gateway`: the pool refused the edge’s frame, or its answer could not be authenticated */
            502: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "bad_gateway";
                        };
                    };
                };
            };
            /** @description `pool_unavailable`: every pool router’s circuit is open (answered at once), or none answered, or all were overloaded */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "pool_unavailable";
                        };
                    };
                };
            };
            /** @description `deadline_exceeded`: the pool did not answer within the deadline */
            504: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "deadline_exceeded";
                        };
                    };
                };
            };
        };
    };
    searchBatch: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BatchRequest"];
            };
        };
        responses: {
            /** @description One entry per query, in order. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BatchResponse"];
                };
            };
            /** @description `bad_request`: a field is wrong; `field` is its dotted path (unknown fields included); `invalid_json`: the body does not parse */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "bad_request" | "invalid_json";
                        };
                    };
                };
            };
            /** @description `unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            /** @description `forbidden`: the key lacks the route’s scope */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "forbidden";
                        };
                    };
                };
            };
            /** @description `payload_too_large`: the body is larger than any valid request to the route can be, or a context is larger than its limits (the message names the limit): more than 6849536 bytes */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "payload_too_large";
                        };
                    };
                };
            };
            /** @description `unsupported_media_type`: the body is not sent as application/json */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unsupported_media_type";
                        };
                    };
                };
            };
            /** @description `rate_limited`: the caller’s bucket is empty (a batch costs one token per query) */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "rate_limited";
                        };
                    };
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
        };
    };
    createConversation: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new, empty conversation: its id, limits and expiry. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Conversation"];
                };
            };
            /** @description `unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            /** @description `forbidden`: the key lacks the route’s scope */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "forbidden";
                        };
                    };
                };
            };
            /** @description `payload_too_large`: the body is larger than any valid request to the route can be, or a context is larger than its limits (the message names the limit) */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "payload_too_large";
                        };
                    };
                };
            };
            /** @description `rate_limited`: the caller’s bucket is empty (a batch costs one token per query) */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "rate_limited";
                        };
                    };
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
        };
    };
    getConversation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The conversation id (from POST /v1/conversations). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The conversation and its turns, oldest first. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Conversation"];
                };
            };
            /** @description `unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            /** @description `forbidden`: the key lacks the route’s scope */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "forbidden";
                        };
                    };
                };
            };
            /** @description `not_found`: no such conversation (never created, deleted, expired after its idle TTL, or another key’s: the same answer), or no such turn */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "not_found";
                        };
                    };
                };
            };
            /** @description `rate_limited`: the caller’s bucket is empty (a batch costs one token per query) */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "rate_limited";
                        };
                    };
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
        };
    };
    deleteConversation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The conversation id (from POST /v1/conversations). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Erased. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            /** @description `forbidden`: the key lacks the route’s scope */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "forbidden";
                        };
                    };
                };
            };
            /** @description `not_found`: no such conversation (never created, deleted, expired after its idle TTL, or another key’s: the same answer), or no such turn */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "not_found";
                        };
                    };
                };
            };
            /** @description `rate_limited`: the caller’s bucket is empty (a batch costs one token per query) */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "rate_limited";
                        };
                    };
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
        };
    };
    conversationSearch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The conversation id (from POST /v1/conversations). */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ConversationSearchRequest"];
            };
        };
        responses: {
            /** @description The hits, best first, and the number the turn was stored as. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConversationSearchResponse"];
                };
            };
            /** @description `bad_request`: a field is wrong; `field` is its dotted path (unknown fields included) (`context` among them: the conversation's history is its context), or the index cannot answer the query’s `mode` or `rerank`; `invalid_json`: the body does not parse */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "bad_request" | "invalid_json";
                        };
                    };
                };
            };
            /** @description `unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            /** @description `forbidden`: the key lacks the route’s scope */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "forbidden";
                        };
                    };
                };
            };
            /** @description `not_found`: no such conversation (never created, deleted, expired after its idle TTL, or another key’s: the same answer), or no such turn */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "not_found";
                        };
                    };
                };
            };
            /** @description `payload_too_large`: the size limits of a stored conversation (CONVERSATION_MAX_TURNS turns, CONVERSATION_MAX_TURN_BYTES bytes a turn, CONVERSATION_MAX_BYTES all turns; the message names the limit), or a body larger than any valid request to the route can be (more than 215040 bytes) */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "payload_too_large";
                        };
                    };
                };
            };
            /** @description `unsupported_media_type`: the body is not sent as application/json */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unsupported_media_type";
                        };
                    };
                };
            };
            /** @description `rate_limited`: the caller’s bucket is empty (a batch costs one token per query) */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "rate_limited";
                        };
                    };
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
            /** @description `bad_gateway`: the pool refused the edge’s frame, or its answer could not be authenticated */
            502: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "bad_gateway";
                        };
                    };
                };
            };
            /** @description `pool_unavailable`: every pool router’s circuit is open (answered at once), or none answered, or all were overloaded */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "pool_unavailable";
                        };
                    };
                };
            };
            /** @description `deadline_exceeded`: the pool did not answer within the deadline */
            504: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "deadline_exceeded";
                        };
                    };
                };
            };
        };
    };
    recordResponse: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The conversation id (from POST /v1/conversations). */
                id: string;
                /** @description The turn number (1 for the first). */
                n: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RecordResponseRequest"];
            };
        };
        responses: {
            /** @description The turn as stored. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StoredTurn"];
                };
            };
            /** @description `bad_request`: a field is wrong; `field` is its dotted path (unknown fields included); `invalid_json`: the body does not parse */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "bad_request" | "invalid_json";
                        };
                    };
                };
            };
            /** @description `unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            /** @description `forbidden`: the key lacks the route’s scope */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "forbidden";
                        };
                    };
                };
            };
            /** @description `not_found`: no such conversation (never created, deleted, expired after its idle TTL, or another key’s: the same answer), or no such turn */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "not_found";
                        };
                    };
                };
            };
            /** @description `payload_too_large`: a response longer than 4096 characters (MAX_RESPONSE_CHARS), the size limits of a stored conversation (CONVERSATION_MAX_TURNS turns, CONVERSATION_MAX_TURN_BYTES bytes a turn, CONVERSATION_MAX_BYTES all turns; the message names the limit), or a body larger than any valid request to the route can be (more than 215040 bytes) */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "payload_too_large";
                        };
                    };
                };
            };
            /** @description `unsupported_media_type`: the body is not sent as application/json */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unsupported_media_type";
                        };
                    };
                };
            };
            /** @description `rate_limited`: the caller’s bucket is empty (a batch costs one token per query) */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "rate_limited";
                        };
                    };
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description At least one pool router is ready. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
            /** @description No pool router is ready. */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    adminHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description At least one pool router is ready. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminHealth"];
                };
            };
            /** @description `unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            /** @description `forbidden`: the key lacks the route’s scope */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "forbidden";
                        };
                    };
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
            /** @description No pool router is ready. */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminHealth"];
                };
            };
        };
    };
    adminStats: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The counters. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminStats"];
                };
            };
            /** @description `unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            /** @description `forbidden`: the key lacks the route’s scope */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "forbidden";
                        };
                    };
                };
            };
            /** @description `internal`: a bug, or the edge’s configuration is invalid */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                        };
                    };
                };
            };
        };
    };
}
