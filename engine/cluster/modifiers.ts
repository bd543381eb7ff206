/**
 * Velero's resource modifiers in the simulated cluster (velero v1.18.1 `internal/resourcemodifiers`): how a
 * ConfigMap is validated and how its rules are matched and applied to a restored object.
 */
import { parse as parseYaml } from "yaml";

import { JsonPatchTestFailed, ModifierJsonPatch, applyJsonPatches } from "./json-patch";
import { KubeObject, mergePatch } from "./store";

/** Velero's validation of a resource-modifier ConfigMap (`internal/resourcemodifiers`): the error, or undefined. */
export function modifierProblem(configMap: KubeObject | undefined, name: string): string | undefined {
    if (configMap === undefined) {
        return `failed to get resource modifiers configmap ${name}`;
    }
    const data = Object.values((configMap.data ?? {}) as Record<string, string>);
    if (data.length !== 1) {
        return `illegal resource modifiers ${name} configmap`;
    }
    let doc: KubeObject;
    try {
        doc = parseYaml(data[0]) as KubeObject;
    } catch (e) {
        return `Error in parsing resource modifiers provided in configmap ${name}: ${(e as Error).message}`;
    }
    const known = new Set(["version", "resourceModifierRules"]);
    const unknown = Object.keys(doc ?? {}).filter((k) => !known.has(k));
    if (unknown.length > 0) {
        return `Error in parsing resource modifiers provided in configmap ${name}: unknown field "${unknown[0]}"`;
    }
    if (String(doc.version).toLowerCase() !== "v1") {
        return `Validation error in resource modifiers provided in configmap ${name}: unsupported resource modifier version ${String(doc.version)}`;
    }
    const rules = (doc.resourceModifierRules ?? []) as KubeObject[];
    if (rules.length === 0) {
        return `Validation error in resource modifiers provided in configmap ${name}: resource modifier rules cannot be empty`;
    }
    // `yaml.UnmarshalStrict` into `ResourceModifierRule`, `Conditions`, `MatchRule` and `JSONPatch` (all strings).
    const strict = (o: KubeObject | undefined, fields: readonly string[]) =>
        Object.keys(o ?? {}).find((k) => !fields.includes(k));
    for (const rule of rules) {
        const field =
            strict(rule, ["conditions", "patches", "mergePatches", "strategicPatches"]) ??
            strict(rule.conditions, ["namespaces", "groupResource", "resourceNameRegex", "labelSelector", "matches"]) ??
            ((rule.conditions?.matches ?? []) as KubeObject[]).map((m) => strict(m, ["path", "value"])).find(Boolean) ??
            ((rule.patches ?? []) as KubeObject[])
                .map((p) => strict(p, ["operation", "from", "path", "value"]))
                .find(Boolean);
        if (field !== undefined) {
            return `Error in parsing resource modifiers provided in configmap ${name}: unknown field "${field}"`;
        }
        const notString = [
            ...((rule.patches ?? []) as KubeObject[]),
            ...((rule.conditions?.matches ?? []) as KubeObject[]),
        ]
            .flatMap((p) => Object.values(p))
            .find((v) => typeof v !== "string");
        if (notString !== undefined) {
            return `Error in parsing resource modifiers provided in configmap ${name}: cannot unmarshal ${typeof notString} into a string field`;
        }
        if (typeof rule.conditions?.groupResource !== "string" || rule.conditions.groupResource === "") {
            return `Validation error in resource modifiers provided in configmap ${name}: groupkind is required`;
        }
        const kinds = [rule.patches, rule.mergePatches, rule.strategicPatches].filter((p) => (p ?? []).length > 0);
        if (kinds.length > 1) {
            return `Validation error in resource modifiers provided in configmap ${name}: only one of patches, mergePatches, strategicPatches can be specified`;
        }
    }
    return undefined;
}

/** A rule's `matches`: each a JSON-patch `test`; a failed test or a missing path is no match (`matchConditions`). */
function matchesAll(o: KubeObject, matches: readonly { path: string; value?: string }[]): boolean {
    try {
        applyJsonPatches(
            o,
            matches.map((m) => ({ operation: "test", path: m.path, value: m.value })),
        );
        return true;
    } catch {
        return false;
    }
}

/**
 * The rules' patches applied to an object, each rule matched against the object before any rule
 * (`ApplyResourceModifierRules`). A rule whose patch fails leaves the object as that rule found it and adds an error
 * to `errors`; a failed JSON-patch `test` is no error.
 */
export function applyModifiers(
    o: KubeObject,
    resource: string,
    rules: readonly KubeObject[],
    errors: string[] = [],
): KubeObject {
    const original = o;
    let patched = o;
    for (const rule of rules) {
        const c = rule.conditions ?? {};
        const names = typeof c.resourceNameRegex === "string" ? new RegExp(c.resourceNameRegex) : undefined;
        const namespaces = (c.namespaces ?? []) as string[];
        if (
            c.groupResource !== resource ||
            (names !== undefined && !names.test(String(original.metadata.name))) ||
            (namespaces.length > 0 && !namespaces.includes(String(original.metadata.namespace))) ||
            !matchesAll(original, (c.matches ?? []) as ModifierJsonPatch[])
        ) {
            continue;
        }
        for (const p of (rule.mergePatches ?? []) as KubeObject[]) {
            patched = mergePatch(patched, parseYaml(String(p.patchData))) as KubeObject;
        }
        if ((rule.patches ?? []).length > 0) {
            try {
                patched = applyJsonPatches(patched, rule.patches as ModifierJsonPatch[]);
            } catch (e) {
                if (!(e instanceof JsonPatchTestFailed)) {
                    errors.push(`error in applying patch error in applying JSON Patch ${(e as Error).message}`);
                }
            }
        }
    }
    return patched;
}
