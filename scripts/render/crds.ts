/**
 * Custom resources against their CRDs: a CRD's OpenAPI schema read as the API server reads it, the catalog of
 * CRD schemas (the rendered charts' own, then the reference CRDs in `../shared/reference/*-crds/`), and the
 * `crd-schema` check of every velero.io and argoproj.io object.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import Ajv from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";

import { ROOT } from "../../engine";
import { ReleaseRender, objectName, parseManifests } from "./manifests";
import { CR_GROUPS, KubeObject, ObjectOrigin } from "./records";
import { CheckResult } from "./report";
import { isRecord, str } from "./values";

/** A CRD's schema for one version, with where it came from. */
export interface CrdVersionSchema {
    readonly group: string;
    readonly version: string;
    readonly kind: string;
    readonly schema: Record<string, unknown>;
    readonly source: string;
}

/**
 * Rewrites a CRD's OpenAPI v3 schema into JSON Schema with the API server's meaning: `nullable` allows null, and
 * an object field the schema does not define is refused, because the API server prunes it silently (structural
 * schemas; apiextensions-apiserver `pkg/apiserver/schema/pruning`) unless `x-kubernetes-preserve-unknown-fields`
 * keeps it. `x-kubernetes-validations` (CEL) rules are not evaluated here.
 */
export function crdSchemaToJsonSchema(node: unknown, at: readonly string[] = []): unknown {
    if (Array.isArray(node)) {
        return node.map((n) => crdSchemaToJsonSchema(n, at));
    }
    if (!isRecord(node)) {
        return node;
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
        if (key.startsWith("x-kubernetes-") || key === "nullable") {
            continue;
        }
        if (key === "properties" && isRecord(value)) {
            out.properties = Object.fromEntries(
                Object.entries(value).map(([k, v]) => [k, crdSchemaToJsonSchema(v, [...at, k])]),
            );
        } else if (key === "items" || key === "additionalProperties" || key === "not") {
            out[key] = crdSchemaToJsonSchema(value, [...at, "*"]);
        } else if (key === "allOf" || key === "anyOf" || key === "oneOf") {
            out[key] = crdSchemaToJsonSchema(value, at);
        } else {
            out[key] = value;
        }
    }
    if (node.nullable === true && typeof out.type === "string") {
        out.type = [out.type, "null"];
        if (Array.isArray(out.enum)) {
            out.enum = [...(out.enum as unknown[]), null];
        }
    }
    const keepsUnknown =
        node["x-kubernetes-preserve-unknown-fields"] === true || node["x-kubernetes-embedded-resource"] === true;
    // The root's metadata is ObjectMeta, validated and kept by the API server itself, never pruned.
    const isRootMetadata = at.length === 1 && at[0] === "metadata";
    if (node.type === "object" && !keepsUnknown && !isRootMetadata && node.additionalProperties === undefined) {
        out.additionalProperties = false;
    }
    return out;
}

/** CRD schemas by group, version and kind; the first one added for a key wins. */
export class CrdCatalog {
    private readonly schemas = new Map<string, CrdVersionSchema>();
    private readonly validators = new Map<string, ValidateFunction>();
    private readonly ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });

    /** Adds every served version of the CustomResourceDefinitions among `objects`. */
    addFrom(objects: readonly KubeObject[], source: string): this {
        for (const crd of objects) {
            if (crd.kind !== "CustomResourceDefinition" || !isRecord(crd.spec)) {
                continue;
            }
            const group = str(crd.spec.group);
            const kind = isRecord(crd.spec.names) ? str(crd.spec.names.kind) : undefined;
            const versions = Array.isArray(crd.spec.versions) ? crd.spec.versions : [];
            for (const v of versions) {
                if (!isRecord(v) || group === undefined || kind === undefined || typeof v.name !== "string") {
                    continue;
                }
                const schema =
                    isRecord(v.schema) && isRecord(v.schema.openAPIV3Schema) ? v.schema.openAPIV3Schema : undefined;
                const key = `${group}/${v.name}/${kind}`;
                if (schema !== undefined && !this.schemas.has(key)) {
                    this.schemas.set(key, {
                        group,
                        version: v.name,
                        kind,
                        schema,
                        source: `${source} (${crd.metadata?.name ?? key})`,
                    });
                }
            }
        }
        return this;
    }

    get size(): number {
        return this.schemas.size;
    }

    get(apiVersion: string, kind: string): CrdVersionSchema | undefined {
        return this.schemas.get(`${apiVersion}/${kind}`);
    }

    validator(entry: CrdVersionSchema): ValidateFunction {
        const key = `${entry.group}/${entry.version}/${entry.kind}`;
        let v = this.validators.get(key);
        if (v === undefined) {
            v = this.ajv.compile(crdSchemaToJsonSchema(entry.schema) as Record<string, unknown>);
            this.validators.set(key, v);
        }
        return v;
    }
}

/** The CRD catalog: the rendered charts' own CRDs first, then the reference CRDs. */
export function crdCatalog(renders: readonly ReleaseRender[], reference: string | undefined): CrdCatalog {
    const catalog = new CrdCatalog();
    for (const r of renders) {
        catalog.addFrom(r.objects, `chart ${r.chart.metadata.name}-${r.chart.metadata.version}`);
    }
    if (reference !== undefined && fs.existsSync(reference)) {
        for (const { objects, source } of referenceCrds(reference)) {
            catalog.addFrom(objects, source);
        }
    }
    return catalog;
}

/** `GITOPS_DR_REFERENCE_DIR`, else `../shared/reference` next to the repository when it exists. */
export function referenceDir(): string | undefined {
    const fromEnv = process.env.GITOPS_DR_REFERENCE_DIR;
    if (fromEnv !== undefined && fromEnv !== "") {
        return fromEnv;
    }
    const shared = path.resolve(ROOT, "..", "shared", "reference");
    return fs.existsSync(shared) ? shared : undefined;
}

/** The CRDs in a reference directory's `*-crds/` folders, each with its file as source. */
export function referenceCrds(dir: string): { objects: KubeObject[]; source: string }[] {
    const found: { objects: KubeObject[]; source: string }[] = [];
    for (const folder of fs
        .readdirSync(dir)
        .filter((f) => f.endsWith("-crds"))
        .sort()) {
        for (const file of fs
            .readdirSync(path.join(dir, folder))
            .filter((f) => /\.ya?ml$/.test(f))
            .sort()) {
            const full = path.join(dir, folder, file);
            found.push({
                objects: parseManifests(fs.readFileSync(full, "utf8"), full),
                source: path.relative(process.cwd(), full),
            });
        }
    }
    return found;
}

function describeAjvError(e: ErrorObject): string {
    const at = e.instancePath === "" ? "/" : e.instancePath;
    if (e.keyword === "additionalProperties") {
        const extra = String((e.params as { additionalProperty?: unknown }).additionalProperty);
        return `${at}: field ${extra} is not in the CRD (the API server would prune it)`;
    }
    if (e.keyword === "enum") {
        return `${at} ${e.message ?? "is not allowed"}: ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}`;
    }
    return `${at} ${e.message ?? e.keyword}`;
}

export interface CrdValidationOptions {
    /** API groups to check. Defaults to {@link CR_GROUPS}. */
    readonly groups?: readonly string[];
    /**
     * What an object whose CRD is in no source gets. Defaults to `fail`: it could not be checked. `warn` is for
     * renders that leave charts out on purpose (`--only`), whose CRDs are then missing.
     */
    readonly missingCrd?: "fail" | "warn";
}

/** Validates every object of the checked API groups against its CRD's schema. */
export function validateCustomResources(
    objects: readonly ObjectOrigin[],
    catalog: CrdCatalog,
    options: CrdValidationOptions = {},
): CheckResult[] {
    const groups = options.groups ?? CR_GROUPS;
    const results: CheckResult[] = [];
    for (const { object, origin } of objects) {
        const group = object.apiVersion.includes("/") ? object.apiVersion.split("/")[0] : "";
        if (!groups.includes(group)) {
            continue;
        }
        const subject = `${objectName(object)} (${origin})`;
        const entry = catalog.get(object.apiVersion, object.kind);
        if (entry === undefined) {
            results.push({
                check: "crd-schema",
                subject,
                status: options.missingCrd ?? "fail",
                detail: `no CRD for ${object.apiVersion} ${object.kind} in the rendered charts or the reference CRDs, not checked: render the chart that owns it, or set GITOPS_DR_REFERENCE_DIR to a directory of *-crds/ folders`,
            });
            continue;
        }
        const validate = catalog.validator(entry);
        const ok = validate(object);
        results.push(
            ok
                ? { check: "crd-schema", subject, status: "pass", detail: `valid against ${entry.source}` }
                : {
                      check: "crd-schema",
                      subject,
                      status: "fail",
                      detail: `against ${entry.source}: ${(validate.errors ?? []).map(describeAjvError).join("; ")}`,
                  },
        );
    }
    return results;
}
