// Checks responses against /openapi.json: the route must list the status, the body must match
// the response's schema (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it, with formats) and every
// required header must be present and match its schema. Used on the live document of a running
// edge (test/edge/openapi-responses.test.ts) and on the generated one (edge/openapi/openapi.test.ts).
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';

// ajv-formats is CommonJS with an `exports.default`: under NodeNext its default import is the
// module object, whose `default` is the plugin (at run time either may be the function).
const addFormats: FormatsPlugin = (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

type Json = Record<string, any>;
const DOC_ID = 'https://edgesearch.invalid/openapi.json';

/** JSON pointer escaping of one path segment. */
const pointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

export interface CheckedResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export class OpenApiChecker {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();
  /** `METHOD path status` of every response checked, for coverage assertions. */
  readonly seen = new Set<string>();

  constructor(readonly doc: Json) {
    // strict: false: the document holds OpenAPI keywords (paths, info, ...) around its schemas.
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...doc, $id: DOC_ID });
  }

  /** The validator of the JSON Schema at `pointerPath` (a JSON pointer into the document). */
  schemaAt(pointerPath: string): ValidateFunction {
    let v = this.compiled.get(pointerPath);
    if (!v) {
      v = this.ajv.compile({ $ref: `${DOC_ID}#${pointerPath}` });
      this.compiled.set(pointerPath, v);
    }
    return v;
  }

  /** The request body schema of an operation. */
  requestSchema(method: string, path: string): ValidateFunction {
    return this.schemaAt(`/paths/${pointer(path)}/${method.toLowerCase()}/requestBody/content/application~1json/schema`);
  }

  /** The document's path for a concrete one: itself, or the template whose `{param}`s it fills (`/v1/conversations/{id}`). */
  template(path: string): string {
    if (this.doc.paths?.[path]) return path;
    for (const t of Object.keys(this.doc.paths ?? {})) {
      if (!t.includes('{')) continue;
      const re = new RegExp(`^${t.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);
      if (re.test(path)) return t;
    }
    return path;
  }

  /** Throws, saying what differs, unless `res` is a response the document allows for `method path` (a concrete path is checked against its template). */
  check(method: string, concretePath: string, res: CheckedResponse): void {
    const path = this.template(concretePath);
    const m = method.toLowerCase();
    const op = this.doc.paths?.[path]?.[m];
    let base: string;
    let response: Json | undefined;
    if (op) {
      base = `/paths/${pointer(path)}/${m}/responses/${res.status}`;
      response = op.responses?.[String(res.status)];
    } else {
      // Paths and methods the document does not list answer its NotFound response.
      base = '/components/responses/NotFound';
      response = res.status === 404 ? this.doc.components.responses.NotFound : undefined;
    }
    const where = `${method} ${path} → ${res.status}`;
    if (!response) throw new Error(`${where}: the document lists no such response`);
    for (const [name, header] of Object.entries<Json>(response.headers ?? {})) {
      const h = header.$ref ? this.doc.components.headers[header.$ref.split('/').pop()] : header;
      const value = res.headers.get(name);
      if (value === null) {
        if (h.required) throw new Error(`${where}: required header ${name} is missing`);
        continue;
      }
      const typed = h.schema?.type === 'integer' || h.schema?.type === 'number' ? Number(value) : value;
      const ok = this.ajv.validate(h.schema ?? {}, typed);
      if (!ok) throw new Error(`${where}: header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText()}`);
    }
    const types = Object.keys(response.content ?? {});
    if (types.length > 0) {
      const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
      if (!types.includes(type)) throw new Error(`${where}: content-type ${type}, the document says ${types.join(' or ')}`);
      if (type === 'application/json') {
        const validate = this.schemaAt(`${base}/content/application~1json/schema`);
        if (!validate(res.body)) throw new Error(`${where}: body does not match its schema: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 2000)}`);
      }
    }
    this.seen.add(`${method.toUpperCase()} ${path} ${res.status}`);
  }
}
