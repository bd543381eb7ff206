/**
 * JSON patches as Velero applies a resource modifier's `patches` (velero v1.18.1
 * `internal/resourcemodifiers/json_patch.go`): each operation is rendered by `ToString` (the value spliced in raw when
 * it reads as JSON, quoted otherwise: `addQuotes`) and the list applied by evanphx/json-patch v5 with RFC 6902
 * semantics. A failed operation fails the whole patch, which leaves the object as it was; a failed `test` is not an
 * error (the object is returned unchanged).
 */

/** One operation as a modifier rule holds it. */
export interface ModifierJsonPatch {
    readonly operation: string;
    readonly path: string;
    readonly from?: string;
    readonly value?: string;
}

/** A failed `test`: Velero skips the patch without an error. */
export class JsonPatchTestFailed extends Error {}

/** `addQuotes`: whether Velero quotes the value (and strips one pair of quotes it already has). */
function rendered(value: string | undefined): unknown {
    const v = value ?? "";
    if (v === "") {
        return "";
    }
    if (v.startsWith('"') && v.endsWith('"')) {
        return v.slice(1, -1);
    }
    if (v === "null" || v.toLowerCase() === "true" || v.toLowerCase() === "false") {
        return JSON.parse(v.toLowerCase());
    }
    if (v.startsWith("{") || v.startsWith("[")) {
        return JSON.parse(v); // invalid JSON throws, as decoding the patch does in Velero
    }
    if (v.trim() !== "" && !Number.isNaN(Number(v))) {
        return Number(v);
    }
    return v;
}

function pointer(path: string): string[] {
    if (path === "") {
        return [];
    }
    if (!path.startsWith("/")) {
        throw new Error(`invalid JSON pointer ${path}`);
    }
    return path
        .slice(1)
        .split("/")
        .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

type Container = Record<string, unknown> | unknown[];

function parentOf(doc: unknown, tokens: string[], path: string): { parent: Container; key: string } {
    let node: unknown = doc;
    for (const t of tokens.slice(0, -1)) {
        node = child(node, t, path);
    }
    if (typeof node !== "object" || node === null) {
        throw new Error(`missing parent for ${path}`);
    }
    return { parent: node as Container, key: tokens[tokens.length - 1] };
}

function child(node: unknown, key: string, path: string): unknown {
    if (Array.isArray(node)) {
        const i = Number(key);
        if (!/^\d+$/.test(key) || i >= node.length) {
            throw new Error(`index ${key} out of range at ${path}`);
        }
        return node[i];
    }
    if (typeof node === "object" && node !== null && key in node) {
        return (node as Record<string, unknown>)[key];
    }
    throw new Error(`missing value at ${path}`);
}

function get(doc: unknown, path: string): unknown {
    let node = doc;
    for (const t of pointer(path)) {
        node = child(node, t, path);
    }
    return node;
}

function addAt(doc: unknown, path: string, value: unknown): void {
    const { parent, key } = parentOf(doc, pointer(path), path);
    if (Array.isArray(parent)) {
        const i = key === "-" ? parent.length : Number(key);
        if (!/^\d+$/.test(key) && key !== "-") {
            throw new Error(`invalid index ${key} at ${path}`);
        }
        if (i > parent.length) {
            throw new Error(`index ${key} out of range at ${path}`);
        }
        parent.splice(i, 0, value);
    } else {
        parent[key] = value;
    }
}

function removeAt(doc: unknown, path: string): unknown {
    const { parent, key } = parentOf(doc, pointer(path), path);
    const old = child(parent, key, path);
    if (Array.isArray(parent)) {
        parent.splice(Number(key), 1);
    } else {
        delete parent[key];
    }
    return old;
}

/** Applies a rule's patches to a copy of `object`; throws on a failed operation ({@link JsonPatchTestFailed} on a test). */
export function applyJsonPatches<T>(object: T, patches: readonly ModifierJsonPatch[]): T {
    const doc = JSON.parse(JSON.stringify(object)) as T;
    for (const p of patches) {
        const value = rendered(p.value);
        switch (p.operation) {
            case "add":
                addAt(doc, p.path, value);
                break;
            case "remove":
                removeAt(doc, p.path);
                break;
            case "replace":
                removeAt(doc, p.path);
                addAt(doc, p.path, value);
                break;
            case "move":
                addAt(doc, p.path, removeAt(doc, p.from ?? ""));
                break;
            case "copy":
                addAt(doc, p.path, JSON.parse(JSON.stringify(get(doc, p.from ?? ""))));
                break;
            case "test":
                if (JSON.stringify(get(doc, p.path)) !== JSON.stringify(value)) {
                    throw new JsonPatchTestFailed(`testing value ${p.path} failed`);
                }
                break;
            default:
                throw new Error(`unexpected operation ${p.operation}`);
        }
    }
    return doc;
}
