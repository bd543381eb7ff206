/**
 * Reading resource properties safely. Policies see inputs (or, in stack analysis, outputs) as plain JSON
 * decoded from the engine's protobuf structs: nothing about their shape can be trusted, so every read names
 * the type it expects and yields `undefined` otherwise.
 */

/** A JSON object. */
export type Json = Readonly<Record<string, unknown>>;

export function isObject(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `value` when it is a JSON object, else undefined. */
export function obj(value: unknown): Json | undefined {
    return isObject(value) ? value : undefined;
}

/** `value` when it is a string, else undefined. */
export function str(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/** `value` when it is a number, else undefined. */
export function num(value: unknown): number | undefined {
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** `value` when it is a boolean, else undefined. */
export function bool(value: unknown): boolean | undefined {
    return typeof value === "boolean" ? value : undefined;
}

/** `value` when it is an array, else undefined. */
export function arr(value: unknown): readonly unknown[] | undefined {
    return Array.isArray(value) ? (value as unknown[]) : undefined;
}

/** The strings of an array (other items dropped); a single string counts as a one-item list. */
export function strings(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    return (arr(value) ?? []).filter((v): v is string => typeof v === "string");
}

/** The value at a dotted path (`a.b.c`; keys containing dots are given as separate segments). */
export function at(value: unknown, ...path: string[]): unknown {
    let current: unknown = value;
    for (const key of path) {
        const o = obj(current);
        if (o === undefined) {
            return undefined;
        }
        current = o[key];
    }
    return current;
}

/** Every string leaf of a value with its path, e.g. `values.credentials.secretContents.cloud`. */
export function stringLeaves(value: unknown, path = ""): { path: string; value: string; key: string }[] {
    if (typeof value === "string") {
        return [{ path, value, key: path.substring(path.lastIndexOf(".") + 1).replace(/\[\d+\]$/, "") }];
    }
    if (Array.isArray(value)) {
        return value.flatMap((v: unknown, i) => stringLeaves(v, `${path}[${i}]`));
    }
    if (isObject(value)) {
        return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, path === "" ? k : `${path}.${k}`));
    }
    return [];
}

/** Renders a value for a message: strings quoted, absent values named. */
export function show(value: unknown): string {
    if (value === undefined) {
        return "nothing";
    }
    return JSON.stringify(value);
}

/** "a, b and c". */
export function list(items: readonly string[]): string {
    if (items.length <= 1) {
        return items.join("");
    }
    return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
