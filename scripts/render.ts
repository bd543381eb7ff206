/**
 * `npm run render -- <stack> [--out dir] [--chart name=path]... [--only chart,...]`: the manifests Helm will
 * apply for a stack, and checks on them. docs/render.md explains the output and each check.
 *
 * Runs the program for the stack on the offline engine (engine/), renders every Helm release it
 * registers with a real Helm (`helm template ... --include-crds`), prints the manifests (or writes one file per
 * release), then checks them:
 *  - every velero.io and argoproj.io object, rendered or registered by the program, against its CRD schema;
 *  - no stack secret in plain text, in the manifests or in the release values;
 *  - the facts the program relies on, from the chart's objects and the ones the program registers itself
 *    (Velero: locations and their access, references, namespaces, node-agent ConfigMap, server flags, IRSA;
 *    Argo CD: the argocd-cm and argocd-cmd-params-cm keys, resource.exclusions, the root Application).
 * Exits 1 when a check fails, 2 when the stack cannot be rendered (for example a chart that cannot be had; every
 * such chart is named in one run).
 *
 * The check functions (`check*`, `validateCustomResources`) are pure functions of parsed manifests and the
 * engine's records, so tests call them directly.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import Ajv from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { parseAllDocuments, parse as parseYaml } from "yaml";

import { IN_CLUSTER_SERVER } from "../components/argocd";
import { PINNED_CHARTS as MIRROR_PINS, pinnedChart } from "../components/mirrors";
import { ARGO_CD_CHART, VELERO_CHART } from "../components/versions";
import { ProgramRun, RegisteredResource, RunOptions, runProgram } from "../engine";
import { STACK_REFERENCES, STACK_SECRETS } from "../engine";
import { STACKS, STACK_NAMES, stackRunOptions } from "../engine";
import {
    ChartRef,
    ChartUnavailableError,
    ChartsUnavailableError,
    HelmError,
    PullOptions,
    ResolvedChart,
    helmBinary,
    helmTemplate,
    helmVersion,
    resolveChart,
    showValues,
} from "./helm";

const ROOT = path.resolve(__dirname, "..");

/** The type token of a Helm release registered through `kubernetes.helm.v3.Release`. */
export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

/** API groups whose objects are checked against their CRD. */
export const CR_GROUPS = ["velero.io", "argoproj.io"] as const;

/** Every chart the program may deploy, as pinned in components/versions.ts. */
export const PINNED_CHARTS: readonly ChartRef[] = MIRROR_PINS;

// ---------------------------------------------------------------------------------------------------------
// Stacks

/** How the engine runs one stack for rendering. */
export interface StackSpec {
    /** What the stack is and where its inputs come from, printed above the manifests. */
    readonly description: string;
    readonly run: RunOptions;
}

const PLACEHOLDERS =
    "Secrets are placeholder test values (engine/stacks.ts STACK_SECRETS; encrypted stack-file values become test-secret-for-<key>); " +
    "a source stack's outputs are engine/stacks.ts PROD_OUTPUTS, not the real prod stack's.";

/**
 * The stacks `npm run render` knows by name: the ones every script knows (engine/stacks.ts), and
 * `recover-example` as another name for `recover`. Any other stack with a `Pulumi.<stack>.yaml` also renders.
 */
export const STACK_SPECS: Readonly<Record<string, StackSpec>> = Object.fromEntries(
    [...STACK_NAMES.map((name) => [name, name] as const), ["recover-example", "recover"] as const].map(
        ([alias, name]) => [
            alias,
            {
                description: `${alias}: ${STACKS[name].file} (${STACKS[name].name})`,
                run: stackRunOptions(STACKS[name]),
            },
        ],
    ),
);

/** The spec of a stack: from {@link STACK_SPECS}, else its `Pulumi.<stack>.yaml` with placeholder secrets. */
export function stackSpec(stack: string): StackSpec {
    const known = STACK_SPECS[stack];
    if (known !== undefined) {
        return known;
    }
    if (/^[A-Za-z0-9_.-]+$/.test(stack) && fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`))) {
        return {
            description: `${stack}: Pulumi.${stack}.yaml`,
            run: { stack, secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES },
        };
    }
    throw new Error(
        `Unknown stack "${stack}". Known: ${Object.keys(STACK_SPECS).join(", ")}, or any stack with a Pulumi.<stack>.yaml.`,
    );
}

// ---------------------------------------------------------------------------------------------------------
// What the engine recorded

/** A Kubernetes object as rendered or registered. */
export interface KubeObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata?: {
        readonly name?: string;
        readonly namespace?: string;
        readonly annotations?: Readonly<Record<string, string>>;
        readonly labels?: Readonly<Record<string, string>>;
    };
    readonly [field: string]: unknown;
}

/** A Helm release as the program registered it. */
export interface ReleaseRecord {
    readonly urn: string;
    /** The Pulumi resource name. */
    readonly resourceName: string;
    /** The Helm release name (`.Release.Name`). */
    readonly releaseName: string;
    readonly namespace: string;
    readonly chart: string;
    readonly version: string;
    /** `repositoryOpts.repo`, when given. */
    readonly repo?: string;
    readonly values: Readonly<Record<string, unknown>>;
    /** Paths inside `values` that the program passed as secrets, e.g. `credentials.secretContents`. */
    readonly secretValuePaths: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/** Every Helm release the program registered. */
export function releasesOf(run: ProgramRun): ReleaseRecord[] {
    return run.ofType(HELM_RELEASE_TYPE).map((r) => {
        const inputs = r.inputs;
        const chart = str(inputs.chart);
        if (chart === undefined) {
            throw new Error(`${r.name}: a release without a chart input cannot be rendered`);
        }
        const repositoryOpts = isRecord(inputs.repositoryOpts) ? inputs.repositoryOpts : {};
        return {
            urn: r.urn,
            resourceName: r.name,
            // Without a name Pulumi generates one from the resource name; the chart's object names then differ.
            releaseName: str(inputs.name) ?? r.name,
            namespace: str(inputs.namespace) ?? "default",
            chart,
            version: str(inputs.version) ?? "",
            repo: str(repositoryOpts.repo),
            values: isRecord(inputs.values) ? inputs.values : {},
            secretValuePaths: r.secretPaths
                .filter((p) => p === "values" || p.startsWith("values."))
                .map((p) => (p === "values" ? "" : p.slice("values.".length))),
        };
    });
}

/** `kubernetes:velero.io/v1:Schedule` → group `velero.io`, version `v1`, kind `Schedule`. */
function parseKubernetesType(type: string): { group: string; version: string; kind: string } | undefined {
    const m = /^kubernetes:([a-z0-9.-]+)\/([a-z0-9]+):([A-Za-z0-9]+)$/.exec(type);
    return m === null ? undefined : { group: m[1], version: m[2], kind: m[3] };
}

/** An object to check, and where it came from (a release or a Pulumi resource). */
export interface ObjectOrigin {
    readonly object: KubeObject;
    readonly origin: string;
}

/** The velero.io and argoproj.io custom resources the program registers itself, as Kubernetes objects. */
export function registeredCustomResources(run: ProgramRun, groups: readonly string[] = CR_GROUPS): ObjectOrigin[] {
    const found: ObjectOrigin[] = [];
    for (const r of run.resources) {
        const t = parseKubernetesType(r.type);
        if (t === undefined || !groups.includes(t.group)) {
            continue;
        }
        const object = {
            ...r.inputs,
            apiVersion: str(r.inputs.apiVersion) ?? `${t.group}/${t.version}`,
            kind: str(r.inputs.kind) ?? t.kind,
        } as KubeObject;
        found.push({ object, origin: `Pulumi resource ${r.name}` });
    }
    return found;
}

/** A secret the stack holds, by a label that names it without showing it. */
export interface SecretValue {
    readonly label: string;
    readonly value: string;
}

function valueAt(value: unknown, dotted: string): unknown {
    let current = value;
    for (const part of dotted.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "")) {
        if (Array.isArray(current) && /^\d+$/.test(part)) {
            current = current[Number(part)];
        } else if (isRecord(current)) {
            current = current[part];
        } else {
            return undefined;
        }
    }
    return current;
}

/** Calls `visit` with every string leaf of a value and its path (`a.b[0].c`). */
function forEachString(value: unknown, at: string, visit: (at: string, s: string) => void): void {
    if (typeof value === "string") {
        visit(at, value);
    } else if (Array.isArray(value)) {
        value.forEach((v, i) => forEachString(v, `${at}[${i}]`, visit));
    } else if (isRecord(value)) {
        for (const [k, v] of Object.entries(value)) {
            forEachString(v, at === "" ? k : `${at}.${k}`, visit);
        }
    }
}

/** Shorter strings would match by accident (`true`, `kopia`); no real secret is this short. */
const MIN_SECRET_LENGTH = 8;

/**
 * Every secret value of a run: the stack's secret config values and every input the program passed as a secret
 * (`RegisteredResource.secretPaths`).
 */
export function secretValuesOf(run: ProgramRun, stackSecrets: Readonly<Record<string, string>> = {}): SecretValue[] {
    const found = new Map<string, string>();
    for (const [key, value] of Object.entries(stackSecrets)) {
        found.set(value, `config ${key}`);
    }
    for (const r of run.resources) {
        for (const p of r.secretPaths) {
            forEachString(valueAt(r.inputs, p), p, (at, s) => {
                if (!found.has(s)) {
                    found.set(s, `${r.name} input ${at}`);
                }
            });
        }
    }
    return [...found]
        .filter(([value]) => value.length >= MIN_SECRET_LENGTH)
        .map(([value, label]) => ({ label, value }));
}

// ---------------------------------------------------------------------------------------------------------
// Manifests

/** Parses Helm's multi-document output; empty documents are dropped. */
export function parseManifests(text: string, origin = "manifest"): KubeObject[] {
    const objects: KubeObject[] = [];
    for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length > 0) {
            throw new Error(`${origin}: YAML error ${doc.errors[0].message}`);
        }
        const value: unknown = doc.toJS();
        if (value === null || value === undefined) {
            continue;
        }
        if (!isRecord(value) || typeof value.apiVersion !== "string" || typeof value.kind !== "string") {
            throw new Error(`${origin}: a document is not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
        }
        objects.push(value as KubeObject);
    }
    return objects;
}

function objectName(o: KubeObject): string {
    return `${o.kind}/${o.metadata?.namespace === undefined ? "" : `${o.metadata.namespace}/`}${o.metadata?.name ?? "(unnamed)"}`;
}

function find(objects: readonly KubeObject[], kind: string, name: string | undefined): KubeObject | undefined {
    return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

// ---------------------------------------------------------------------------------------------------------
// Checks

export type CheckStatus = "pass" | "warn" | "fail";

/** One row of the checks table. */
export interface CheckResult {
    /** Kebab-case check name, e.g. `velero-node-agent`. */
    readonly check: string;
    /** What was checked, e.g. the release or the object. */
    readonly subject: string;
    readonly status: CheckStatus;
    readonly detail: string;
}

function result(check: string, subject: string, problems: readonly string[], passDetail: string): CheckResult {
    return problems.length === 0
        ? { check, subject, status: "pass", detail: passDetail }
        : { check, subject, status: "fail", detail: problems.join("; ") };
}

/** The release's chart is one pinned in components/versions.ts, and the chart rendered is that chart. */
export function checkChartPin(
    release: ReleaseRecord,
    rendered: { readonly name: string; readonly version: string; readonly source: string },
    pins: readonly ChartRef[] = PINNED_CHARTS,
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    // A chart from an OCI mirror or an archive (docs/mirrors.md) must still be the pin's name and version. An
    // HTTPS mirror shows as another repository: reported, with the hint, since the pin cannot tell it apart.
    const mirrored = release.chart.startsWith("oci://") || release.chart.endsWith(".tgz");
    const pin = pins.find((p) => p.name === release.chart) ?? (mirrored ? pinnedChart(release.chart) : undefined);
    const problems: string[] = [];
    if (pin === undefined) {
        problems.push(`chart ${release.chart} is not pinned in components/versions.ts`);
    } else {
        if (release.version !== pin.version && !release.chart.endsWith(".tgz")) {
            problems.push(`version ${release.version} is not the pinned ${pin.version}`);
        }
        if (!mirrored && release.repo !== pin.repo) {
            problems.push(
                `repository ${String(release.repo)} is not the pinned ${pin.repo}${release.repo?.startsWith("https://") === true ? " (an HTTPS mirror? docs/mirrors.md)" : ""}`,
            );
        }
    }
    const results = [
        result(
            "chart-pin",
            subject,
            problems,
            `${release.chart} ${release.version} from ${String(release.repo)}, as pinned`,
        ),
    ];
    const same = rendered.name === release.chart && rendered.version === release.version;
    results.push({
        check: "chart-rendered",
        subject,
        status: same ? "pass" : "warn",
        detail: same
            ? `rendered with ${rendered.name} ${rendered.version} (${rendered.source})`
            : `rendered with ${rendered.name} ${rendered.version} from ${rendered.source}, not ${release.chart} ${release.version}: these results speak for that chart only`,
    });
    return results;
}

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

/** Whether a values path lies inside one of the secret paths (`a.b` covers `a.b`, `a.b.c`, `a.b[0]`). */
function covered(at: string, secretPaths: readonly string[]): boolean {
    return secretPaths.some((p) => p === "" || at === p || at.startsWith(`${p}.`) || at.startsWith(`${p}[`));
}

/**
 * No stack secret in plain text: not in any rendered object outside a Secret's `data`/`stringData`, also not
 * base64-encoded; and not in the release values unless the program passed it as a secret (else Pulumi stores
 * the values, and shows them in a preview, in plain text).
 */
export function checkNoPlaintextSecrets(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    secrets: readonly SecretValue[],
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const problems: string[] = [];
    const encoded = secrets.map((s) => ({ ...s, b64: Buffer.from(s.value).toString("base64") }));
    for (const o of manifests) {
        forEachString(o, "", (at, s) => {
            if (o.kind === "Secret" && /^(data|stringData)\./.test(at)) {
                return;
            }
            for (const secret of encoded) {
                if (s.includes(secret.value) || s.includes(secret.b64)) {
                    problems.push(`${objectName(o)} ${at} holds ${secret.label} in plain text`);
                }
            }
        });
    }
    forEachString(release.values, "", (at, s) => {
        if (covered(at, release.secretValuePaths)) {
            return;
        }
        for (const secret of secrets) {
            if (s.includes(secret.value)) {
                problems.push(
                    `values.${at} holds ${secret.label} but is not a secret input: Pulumi would store it in plain text`,
                );
            }
        }
    });
    return [
        result(
            "no-plaintext-secret",
            subject,
            problems,
            `none of ${secrets.length} stack secret(s) appears in plain text`,
        ),
    ];
}

/** What the program relies on from a Velero release, from the run as a whole. */
export interface VeleroExpectations {
    /** The vault bucket (stack output `bucketName`); a location elsewhere reads or writes no prefix of it. */
    readonly bucket?: string;
    /** Prefix the cluster writes to; a location there must be ReadWrite. */
    readonly writePrefix?: string;
    /** Prefix restored from; every location there must be ReadOnly. */
    readonly sourcePrefix?: string;
    /** Whether the stack takes backups. A drill does not: every location it has must be ReadOnly. */
    readonly writesBackups: boolean;
    /** The role IRSA must give the server service account, when IRSA is used. */
    readonly irsaRoleArn?: string;
    /** `system:serviceaccount:<ns>:<name>` subjects IAM roles trust. */
    readonly trustSubjects: readonly string[];
    /** Schedule names the program reports (`veleroScheduleNames`, `dailyScheduleName`), each once. */
    readonly scheduleNames: readonly string[];
    /** The Restore the program reports (stack output `restore.restoreName`), in recover and drill. */
    readonly restoreName?: string;
    /**
     * The velero.io objects the program registers itself as Pulumi resources: Schedules, the ReadOnly `source`
     * BackupStorageLocation (recover, drill), the Restore. They count together with the chart's objects.
     */
    readonly registered: readonly ObjectOrigin[];
}

function trustSubjectsOf(roles: readonly RegisteredResource[]): string[] {
    const subjects: string[] = [];
    for (const role of roles) {
        const policy = str(role.inputs.assumeRolePolicy);
        if (policy === undefined) {
            continue;
        }
        forEachString(JSON.parse(policy) as unknown, "", (at, s) => {
            if (at.endsWith(":sub") && s.startsWith("system:serviceaccount:")) {
                subjects.push(s);
            }
        });
    }
    return subjects;
}

/** Where a Velero object names a backup storage location. */
function locationsNamedBy(o: KubeObject): string[] {
    const spec = isRecord(o.spec) ? o.spec : {};
    const names: string[] = [];
    if (o.kind === "Schedule" && isRecord(spec.template)) {
        names.push(...[str(spec.template.storageLocation)].filter((n): n is string => n !== undefined));
    }
    if (o.kind === "Backup") {
        names.push(...[str(spec.storageLocation)].filter((n): n is string => n !== undefined));
    }
    return names;
}

function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((n): n is string => typeof n === "string") : [];
}

/** Reads the {@link VeleroExpectations} from a run: its stack outputs, config, IAM roles and Velero objects. */
export function veleroExpectations(run: ProgramRun): VeleroExpectations {
    const out = run.outputs;
    const mode = str(out.mode);
    const daily = str(out.dailyScheduleName);
    return {
        bucket: str(out.bucketName),
        writePrefix: mode === "drill" ? undefined : str(out.prefix),
        sourcePrefix: mode === "protect" ? undefined : str(out.sourcePrefix),
        writesBackups: mode !== "drill",
        irsaRoleArn: run.config["gitops-dr:credentialsMode"] === "irsa" ? str(out.veleroRoleArn) : undefined,
        trustSubjects: trustSubjectsOf(run.ofType("aws:iam/role:Role")),
        scheduleNames: [...new Set([...strings(out.veleroScheduleNames), ...(daily === undefined ? [] : [daily])])],
        restoreName: isRecord(out.restore) ? str(out.restore.restoreName) : undefined,
        registered: registeredCustomResources(run, ["velero.io"]),
    };
}

interface Container {
    name?: string;
    args?: unknown;
}

function containerOf(o: KubeObject | undefined, name: string): Container | undefined {
    const spec =
        o !== undefined && isRecord(o.spec) && isRecord(o.spec.template) && isRecord(o.spec.template.spec)
            ? o.spec.template.spec
            : undefined;
    const containers = spec !== undefined && Array.isArray(spec.containers) ? (spec.containers as Container[]) : [];
    return containers.find((c) => c.name === name);
}

function podServiceAccount(o: KubeObject | undefined): string | undefined {
    return o !== undefined && isRecord(o.spec) && isRecord(o.spec.template) && isRecord(o.spec.template.spec)
        ? str(o.spec.template.spec.serviceAccountName)
        : undefined;
}

function argsOf(c: Container | undefined): string[] {
    return Array.isArray(c?.args) ? c.args.filter((a): a is string => typeof a === "string") : [];
}

/**
 * Server flags the chart renders from `configuration.<key>` (velero chart 12.1.0 `templates/deployment.yaml`):
 * a value the program sets must reach the server as this flag, or the chart ignored it.
 */
export const VELERO_SERVER_FLAGS: Readonly<Record<string, string>> = {
    uploaderType: "--uploader-type",
    features: "--features",
    defaultSnapshotMoveData: "--default-snapshot-move-data",
    defaultBackupStorageLocation: "--default-backup-storage-location",
    defaultVolumeSnapshotLocations: "--default-volume-snapshot-locations",
    defaultBackupTTL: "--default-backup-ttl",
    backupSyncPeriod: "--backup-sync-period",
    garbageCollectionFrequency: "--garbage-collection-frequency",
    logLevel: "--log-level",
    logFormat: "--log-format",
    restoreResourcePriorities: "--restore-resource-priorities",
};

const NODE_AGENT_CONFIGMAP_FLAG = "--node-agent-configmap=";
const IRSA_ANNOTATION = "eks.amazonaws.com/role-arn";

/** A backup storage location as it will exist: rendered by the chart or registered by the program. */
interface Location {
    readonly name: string;
    readonly namespace?: string;
    /** Where it comes from: `release velero` or `Pulumi resource <name>`. */
    readonly origin: string;
    readonly bucket?: string;
    readonly prefix?: string;
    /** `spec.accessMode`, or the CRD's default ReadWrite. */
    readonly accessMode: string;
    readonly default: boolean;
}

function locationOf(o: KubeObject, origin: string): Location {
    const spec = isRecord(o.spec) ? o.spec : {};
    const storage = isRecord(spec.objectStorage) ? spec.objectStorage : {};
    return {
        name: o.metadata?.name ?? "",
        namespace: o.metadata?.namespace,
        origin,
        bucket: str(storage.bucket),
        prefix: str(storage.prefix),
        accessMode: str(spec.accessMode) ?? "ReadWrite",
        default: spec.default === true,
    };
}

function describeLocation(l: Location): string {
    return `${l.name} (${l.origin})`;
}

/** Checks a rendered Velero release against what the program relies on. */
export function checkVeleroFacts(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: VeleroExpectations,
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const values = release.values;
    const configuration = isRecord(values.configuration) ? values.configuration : {};
    const results: CheckResult[] = [];
    const rendered = manifests.filter((m) => m.kind === "BackupStorageLocation").map((o) => locationOf(o, subject));
    const registered = expect.registered
        .filter((r) => r.object.kind === "BackupStorageLocation")
        .map((r) => locationOf(r.object, r.origin));
    // Every location the server will see, whoever creates it.
    const locations = [...rendered, ...registered];

    // Every location in the values is rendered as given, and no other; none is also a Pulumi resource.
    {
        const problems: string[] = [];
        const given = Array.isArray(configuration.backupStorageLocation) ? configuration.backupStorageLocation : [];
        if (!Array.isArray(configuration.backupStorageLocation)) {
            problems.push(
                `configuration.backupStorageLocation is ${typeof configuration.backupStorageLocation}, not a list: the chart renders no location from it`,
            );
        }
        const names = new Set<string>();
        for (const loc of given.filter(isRecord)) {
            const name = str(loc.name) ?? "default";
            names.add(name);
            const r = rendered.find((l) => l.name === name);
            if (r === undefined) {
                problems.push(`location ${name} is not rendered`);
                continue;
            }
            const want = {
                bucket: str(loc.bucket),
                prefix: str(loc.prefix),
                accessMode: str(loc.accessMode) ?? "ReadWrite",
                default: loc.default === true,
            };
            for (const key of ["bucket", "prefix", "accessMode", "default"] as const) {
                if (r[key] !== want[key]) {
                    problems.push(
                        `location ${name}: ${key} is ${JSON.stringify(r[key])}, the values say ${JSON.stringify(want[key])}`,
                    );
                }
            }
        }
        for (const l of rendered.filter((l) => !names.has(l.name))) {
            problems.push(`location ${l.name} is rendered but not in the values`);
        }
        // One object with two owners: each `helm upgrade` and each `pulumi up` would overwrite the other's spec.
        for (const r of registered.filter((r) => rendered.some((l) => l.name === r.name))) {
            problems.push(
                `location ${r.name} is rendered by the chart and also registered as ${r.origin}: Helm and Pulumi would overwrite each other`,
            );
        }
        const summary = locations.map(
            (l) =>
                `${l.name}: ${l.bucket ?? "?"}/${l.prefix ?? ""} ${l.accessMode}${l.default ? " default" : ""}${l.origin === subject ? "" : ` (${l.origin})`}`,
        );
        results.push(
            result("velero-locations", subject, problems, summary.length === 0 ? "no location" : summary.join(", ")),
        );
    }

    // The cluster writes only under its own prefix and only reads the source prefix; a drill writes nowhere.
    {
        const problems: string[] = [];
        const inVault = (l: Location) => expect.bucket === undefined || l.bucket === expect.bucket;
        const at = (prefix: string) => locations.filter((l) => l.prefix === prefix && inVault(l));
        const pass: string[] = [];
        if (expect.writePrefix !== undefined) {
            const writers = at(expect.writePrefix).filter((l) => l.accessMode === "ReadWrite");
            if (writers.length === 0) {
                problems.push(
                    `no ReadWrite location writes to the cluster's prefix ${expect.writePrefix}${expect.bucket === undefined ? "" : ` in ${expect.bucket}`}`,
                );
            }
            pass.push(`write prefix ${expect.writePrefix} ReadWrite: ${writers.map(describeLocation).join(", ")}`);
        }
        if (expect.sourcePrefix !== undefined) {
            const readers = at(expect.sourcePrefix);
            if (readers.length === 0) {
                problems.push(
                    `no location reads the source prefix ${expect.sourcePrefix}${expect.bucket === undefined ? "" : ` in ${expect.bucket}`}`,
                );
            }
            for (const l of readers.filter((l) => l.accessMode !== "ReadOnly")) {
                problems.push(
                    `location ${describeLocation(l)} at the source prefix ${expect.sourcePrefix} is ${l.accessMode}: it must be ReadOnly`,
                );
            }
            pass.push(`source prefix ${expect.sourcePrefix} ReadOnly: ${readers.map(describeLocation).join(", ")}`);
        }
        if (!expect.writesBackups) {
            // Its own Backups, a Velero garbage collection, a stray `velero backup create`: a drill must not be able to write.
            for (const l of locations.filter((l) => l.accessMode !== "ReadOnly")) {
                problems.push(
                    `location ${describeLocation(l)} is ${l.accessMode}, but a drill writes no backups: every location must be ReadOnly`,
                );
            }
            pass.push("no ReadWrite location (drill)");
        }
        if (expect.sourcePrefix !== undefined || expect.writePrefix !== undefined || !expect.writesBackups) {
            results.push(result("velero-location-access", subject, problems, pass.join("; ")));
        }
    }

    // Every location a Schedule or Backup names exists, every schedule and restore the program reports is there.
    {
        const problems: string[] = [];
        const objects = [...manifests.map((object) => ({ object, origin: subject })), ...expect.registered];
        const referenced = objects.flatMap(({ object, origin }) =>
            locationsNamedBy(object).map((location) => ({ by: `${objectName(object)} (${origin})`, location })),
        );
        for (const ref of referenced.filter((r) => !locations.some((l) => l.name === r.location))) {
            problems.push(`${ref.by} names location ${ref.location}, which is neither rendered nor registered`);
        }
        const named = (kind: string) =>
            new Set(objects.filter((o) => o.object.kind === kind).map((o) => o.object.metadata?.name ?? ""));
        const schedules = named("Schedule");
        for (const name of expect.scheduleNames.filter((n) => !schedules.has(n))) {
            problems.push(`schedule ${name} (a stack output) is neither rendered nor registered`);
        }
        if (expect.restoreName !== undefined && !named("Restore").has(expect.restoreName)) {
            problems.push(
                `restore ${expect.restoreName} (stack output restore.restoreName) is not a registered Restore`,
            );
        }
        if (referenced.length > 0 || expect.scheduleNames.length > 0 || expect.restoreName !== undefined) {
            const restore = expect.restoreName === undefined ? "" : `, restore ${expect.restoreName}`;
            results.push(
                result(
                    "velero-references",
                    subject,
                    problems,
                    `${referenced.length} location reference(s), ${expect.scheduleNames.length} schedule(s)${restore} found`,
                ),
            );
        }
    }

    // The server caches and reconciles only its own namespace (velero pkg/cmd/server/server.go, the manager's
    // `cache.Options{DefaultNamespaces: {f.Namespace(): {}}}`): an object elsewhere is silently ignored.
    if (expect.registered.length > 0) {
        const problems = expect.registered
            .filter((r) => r.object.metadata?.namespace !== release.namespace)
            .map(
                (r) =>
                    `${objectName(r.object)} (${r.origin}) is not in ${release.namespace}: the Velero server never sees it`,
            );
        results.push(
            result(
                "velero-namespace",
                subject,
                problems,
                `${expect.registered.length} registered Velero object(s) in ${release.namespace}`,
            ),
        );
    }

    // The node agent gets --node-agent-configmap, and that ConfigMap is rendered with one JSON document.
    const daemonSet = find(manifests, "DaemonSet", "node-agent");
    if (daemonSet !== undefined || values.deployNodeAgent === true) {
        const problems: string[] = [];
        const args = argsOf(containerOf(daemonSet, "node-agent"));
        if (daemonSet === undefined) {
            problems.push("deployNodeAgent is true but no DaemonSet node-agent is rendered");
        }
        const flags = args.filter((a) => a.startsWith(NODE_AGENT_CONFIGMAP_FLAG));
        const extraArgs = isRecord(values.nodeAgent) ? values.nodeAgent.extraArgs : undefined;
        for (const a of Array.isArray(extraArgs) ? extraArgs : []) {
            if (typeof a === "string" && !args.includes(a)) {
                problems.push(`nodeAgent.extraArgs ${a} is not among the node-agent args`);
            }
        }
        if (flags.length !== 1) {
            problems.push(
                `the node-agent container has ${flags.length} ${NODE_AGENT_CONFIGMAP_FLAG}<name> args (args: ${JSON.stringify(args)}): restored claims of a WaitForFirstConsumer class would wait for a pod`,
            );
        }
        let configMapName = "";
        if (flags.length === 1) {
            configMapName = flags[0].slice(NODE_AGENT_CONFIGMAP_FLAG.length);
            const cm = manifests.find(
                (o) =>
                    o.kind === "ConfigMap" &&
                    o.metadata?.name === configMapName &&
                    (o.metadata.namespace ?? release.namespace) === release.namespace,
            );
            const data = cm !== undefined && isRecord(cm.data) ? Object.entries(cm.data) : [];
            if (cm === undefined) {
                problems.push(
                    `ConfigMap ${configMapName}, named by ${NODE_AGENT_CONFIGMAP_FLAG}, is not rendered in ${release.namespace}`,
                );
            } else if (data.length !== 1) {
                problems.push(
                    `ConfigMap ${configMapName} has ${data.length} data keys: the node agent reads one JSON document`,
                );
            } else {
                try {
                    if (!isRecord(JSON.parse(String(data[0][1])))) {
                        problems.push(`ConfigMap ${configMapName} ${data[0][0]} is not a JSON object`);
                    }
                } catch (e) {
                    problems.push(`ConfigMap ${configMapName} ${data[0][0]} is not JSON: ${(e as Error).message}`);
                }
            }
        }
        results.push(
            result(
                "velero-node-agent",
                subject,
                problems,
                `${NODE_AGENT_CONFIGMAP_FLAG}${configMapName}, ConfigMap rendered`,
            ),
        );
    }

    // Server flags: what the program sets in `configuration` reaches the server.
    const deployment = find(manifests, "Deployment", "velero");
    {
        const problems: string[] = [];
        const args = argsOf(containerOf(deployment, "velero"));
        if (deployment === undefined) {
            problems.push("no Deployment velero is rendered");
        }
        for (const [key, flag] of Object.entries(VELERO_SERVER_FLAGS)) {
            const value = configuration[key];
            // The chart renders a flag only for a non-empty value (`with`), and the server's default is then used.
            if (value === undefined || value === null || value === false || value === "") {
                continue;
            }
            const want = `${flag}=${typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value)}`;
            if (!args.includes(want)) {
                problems.push(`configuration.${key} should reach the server as ${want}`);
            }
        }
        if (
            configuration.defaultSnapshotMoveData === true &&
            !args.some(
                (a) => a.startsWith("--features=") && a.slice("--features=".length).split(",").includes("EnableCSI"),
            )
        ) {
            problems.push(
                "defaultSnapshotMoveData needs --features=EnableCSI: without it the CSI backup action never runs",
            );
        }
        results.push(result("velero-server-args", subject, problems, args.filter((a) => a.startsWith("--")).join(" ")));
    }

    // IRSA: the server's ServiceAccount carries the role and is the subject the role trusts.
    if (expect.irsaRoleArn !== undefined) {
        const problems: string[] = [];
        const saName = podServiceAccount(deployment);
        const sa = find(manifests, "ServiceAccount", saName);
        const annotation = sa?.metadata?.annotations?.[IRSA_ANNOTATION];
        if (sa === undefined) {
            problems.push(`the server's ServiceAccount ${String(saName)} is not rendered`);
        } else if (annotation !== expect.irsaRoleArn) {
            problems.push(
                `ServiceAccount ${String(saName)} has ${IRSA_ANNOTATION}=${String(annotation)}, expected ${expect.irsaRoleArn}`,
            );
        }
        const nodeAgentSa = podServiceAccount(daemonSet);
        if (daemonSet !== undefined && nodeAgentSa !== saName) {
            problems.push(`the node agent runs as ${String(nodeAgentSa)}, not the server's ${String(saName)}`);
        }
        const subject_ = `system:serviceaccount:${release.namespace}:${String(saName)}`;
        if (!expect.trustSubjects.includes(subject_)) {
            problems.push(`no IAM role trusts ${subject_} (trusted: ${expect.trustSubjects.join(", ") || "none"})`);
        }
        results.push(
            result(
                "velero-irsa",
                subject,
                problems,
                `${String(saName)} has ${IRSA_ANNOTATION}, trusted as ${subject_}`,
            ),
        );
    }
    return results;
}

/** A kind, by API group, that Argo CD must leave alone. */
export interface GroupKind {
    readonly group: string;
    readonly kind: string;
}

/**
 * What `resource.exclusions` must exclude on the in-cluster destination: the persistent data Velero restores
 * (DESIGN §5; Argo CD would otherwise apply or prune claims and Secrets the restore brought back) and Velero's
 * Backups, which inherit a Schedule's tracking label and would be pruned as extraneous (velero #2975).
 */
export const REQUIRED_ARGO_CD_EXCLUSIONS: readonly GroupKind[] = [
    { group: "", kind: "PersistentVolume" },
    { group: "", kind: "PersistentVolumeClaim" },
    { group: "", kind: "Secret" },
    { group: "velero.io", kind: "Backup" },
];

/** The destination the root Application deploys the cluster's own apps to, where the exclusions must hold. */
export const ARGO_CD_IN_CLUSTER = IN_CLUSTER_SERVER;

/**
 * Argo CD's glob (`util/glob`, gobwas/glob compiled without separators): `*` any run of characters, `?` one,
 * `[...]` / `[!...]` a class, `{a,b}` alternatives, `\` escapes. Case-sensitive.
 */
export function argoGlobMatch(pattern: string, text: string): boolean {
    const toRegex = (p: string): string => {
        let out = "";
        for (let i = 0; i < p.length; i++) {
            const c = p[i];
            if (c === "\\" && i + 1 < p.length) {
                out += p[++i].replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
            } else if (c === "*") {
                out += "[\\s\\S]*";
            } else if (c === "?") {
                out += "[\\s\\S]";
            } else if (c === "[") {
                const close = p.indexOf("]", i + 2);
                if (close < 0) {
                    out += "\\[";
                    continue;
                }
                const body = p.slice(i + 1, close);
                const negated = body.startsWith("!");
                out += `[${negated ? "^" : ""}${(negated ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&")}]`;
                i = close;
            } else if (c === "{") {
                // Split at the top-level commas up to the matching brace.
                let depth = 0;
                let end = -1;
                const parts: string[] = [];
                let part = "";
                for (let j = i + 1; j < p.length; j++) {
                    const d = p[j];
                    if (d === "{") {
                        depth++;
                    } else if (d === "}") {
                        if (depth === 0) {
                            end = j;
                            break;
                        }
                        depth--;
                    } else if (d === "," && depth === 0) {
                        parts.push(part);
                        part = "";
                        continue;
                    }
                    part += d;
                }
                if (end < 0) {
                    out += "\\{";
                    continue;
                }
                parts.push(part);
                out += `(?:${parts.map(toRegex).join("|")})`;
                i = end;
            } else {
                out += c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
            }
        }
        return out;
    };
    return new RegExp(`^${toRegex(pattern)}$`).test(text);
}

/** One parsed `resource.exclusions` entry (argo-cd `util/settings/filtered_resource.go`). */
interface ExclusionEntry {
    readonly apiGroups: readonly string[];
    readonly kinds: readonly string[];
    readonly clusters: readonly string[];
    /** Any narrowing key beyond the three: such an entry may exclude only some objects of its kinds. */
    readonly narrowedBy: readonly string[];
}

/** Parses a `resource.exclusions` string the way Argo CD reads it: a YAML list of filter entries. */
export function parseExclusions(text: string): { entries: ExclusionEntry[]; error?: string } {
    let parsed: unknown;
    try {
        parsed = parseYaml(text);
    } catch (e) {
        return { entries: [], error: `is not YAML: ${(e as Error).message.split("\n")[0]}` };
    }
    if (parsed === null || parsed === undefined) {
        return { entries: [] };
    }
    if (!Array.isArray(parsed)) {
        return { entries: [], error: "is not a YAML list" };
    }
    const entries: ExclusionEntry[] = [];
    for (const item of parsed) {
        if (!isRecord(item)) {
            return { entries: [], error: `has an entry that is not a map: ${JSON.stringify(item)}` };
        }
        entries.push({
            apiGroups: strings(item.apiGroups),
            kinds: strings(item.kinds),
            clusters: strings(item.clusters),
            narrowedBy: Object.keys(item).filter((k) => !["apiGroups", "kinds", "clusters"].includes(k)),
        });
    }
    return { entries };
}

/**
 * Whether an exclusion list excludes a kind on a cluster: some entry matches group, kind and cluster, where an
 * empty list matches everything (`FilteredResource.Match`: `matchGroup && matchKind && MatchCluster`).
 */
export function isExcluded(entries: readonly ExclusionEntry[], gk: GroupKind, cluster: string): boolean {
    return entries.some(
        (e) =>
            e.narrowedBy.length === 0 &&
            (e.apiGroups.length === 0 || e.apiGroups.some((g) => argoGlobMatch(g, gk.group))) &&
            (e.kinds.length === 0 || e.kinds.some((k) => k === "*" || k === gk.kind)) &&
            (e.clusters.length === 0 || e.clusters.some((c) => argoGlobMatch(c, cluster))),
    );
}

/** What the program relies on from an Argo CD release, from the run as a whole. */
export interface ArgoCdExpectations {
    /** Kinds `resource.exclusions` must exclude on {@link ARGO_CD_IN_CLUSTER}. Defaults to {@link REQUIRED_ARGO_CD_EXCLUSIONS}. */
    readonly requiredExclusions?: readonly GroupKind[];
    /**
     * The chart's own default `configs.cm."resource.exclusions"` (its values.yaml): setting the value replaces
     * that list, so every kind in it must still be excluded. Not checked when undefined.
     */
    readonly chartDefaultExclusions?: string;
    /** The root Application's name (stack output `argoCdRootApp`). */
    readonly rootApp?: string;
    /** Argo CD's namespace as the program reports it (stack output `argoCdNamespace`). */
    readonly namespace?: string;
    /** The argoproj.io objects the program registers itself. */
    readonly registered: readonly ObjectOrigin[];
}

/** Reads the {@link ArgoCdExpectations} from a run and, when known, the chart's default exclusions. */
export function argoCdExpectations(run: ProgramRun, chartDefaultExclusions?: string): ArgoCdExpectations {
    return {
        chartDefaultExclusions,
        rootApp: str(run.outputs.argoCdRootApp),
        namespace: str(run.outputs.argoCdNamespace),
        registered: registeredCustomResources(run, ["argoproj.io"]),
    };
}

/** The chart default `configs.cm."resource.exclusions"` in a chart's default values, if it has one. */
export function defaultExclusionsOf(chartValues: Readonly<Record<string, unknown>>): string | undefined {
    const configs = isRecord(chartValues.configs) ? chartValues.configs : {};
    const cm = isRecord(configs.cm) ? configs.cm : {};
    return str(cm["resource.exclusions"]);
}

function groupKinds(entries: readonly ExclusionEntry[]): GroupKind[] {
    return entries.flatMap((e) => e.apiGroups.flatMap((group) => e.kinds.map((kind) => ({ group, kind }))));
}

function gkName(gk: GroupKind): string {
    return gk.group === "" ? gk.kind : `${gk.kind}.${gk.group}`;
}

/**
 * Argo CD: every `configs.cm` and `configs.params` key reaches its ConfigMap (argo-cd chart `argocd-configs/`);
 * the rendered `resource.exclusions` leaves Velero's kinds alone and keeps the chart's defaults; the root
 * Application is registered where Argo CD looks for it.
 */
export function checkArgoCdFacts(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: ArgoCdExpectations = { registered: [] },
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const configs = isRecord(release.values.configs) ? release.values.configs : {};
    const results: CheckResult[] = [];
    for (const [key, configMap] of [
        ["cm", "argocd-cm"],
        ["params", "argocd-cmd-params-cm"],
    ] as const) {
        const given = isRecord(configs[key]) ? configs[key] : {};
        // `create` and `annotations` shape the ConfigMap itself; the chart leaves them out of its data.
        const entries = Object.entries(given).filter(([k]) => k !== "create" && k !== "annotations");
        if (entries.length === 0) {
            continue;
        }
        const cm = find(manifests, "ConfigMap", configMap);
        const data = cm !== undefined && isRecord(cm.data) ? cm.data : undefined;
        const problems: string[] = [];
        if (data === undefined) {
            problems.push(`ConfigMap ${configMap} is not rendered`);
        } else {
            for (const [k, v] of entries) {
                const want = typeof v === "string" ? v : JSON.stringify(v);
                if (data[k] === undefined) {
                    problems.push(`configs.${key}.${k} is not in ${configMap}`);
                } else if (typeof v === "string" && data[k] !== want) {
                    problems.push(`${configMap} ${k} differs from configs.${key}.${k}`);
                }
            }
        }
        results.push(
            result(
                `argocd-${configMap}`,
                subject,
                problems,
                `${entries.length} key(s) of configs.${key} in ${configMap}`,
            ),
        );
    }

    // What Argo CD will read, from the rendered ConfigMap: the values may be right and still not reach it.
    {
        const problems: string[] = [];
        const cm = find(manifests, "ConfigMap", "argocd-cm");
        const text = cm !== undefined && isRecord(cm.data) ? str(cm.data["resource.exclusions"]) : undefined;
        const required = expect.requiredExclusions ?? REQUIRED_ARGO_CD_EXCLUSIONS;
        let defaults: GroupKind[] = [];
        if (text === undefined) {
            problems.push(
                cm === undefined
                    ? "ConfigMap argocd-cm is not rendered: Argo CD manages every kind"
                    : "argocd-cm has no resource.exclusions: Argo CD manages every kind",
            );
        } else {
            const { entries, error } = parseExclusions(text);
            if (error !== undefined) {
                problems.push(`argocd-cm resource.exclusions ${error}: Argo CD cannot load its settings`);
            }
            const missing = required.filter((gk) => !isExcluded(entries, gk, ARGO_CD_IN_CLUSTER));
            if (missing.length > 0) {
                problems.push(
                    `argocd-cm resource.exclusions does not exclude ${missing.map(gkName).join(", ")} on ${ARGO_CD_IN_CLUSTER}: Argo CD would apply, overwrite or prune what Velero restores`,
                );
            }
            if (expect.chartDefaultExclusions !== undefined) {
                const parsedDefaults = parseExclusions(expect.chartDefaultExclusions);
                defaults = groupKinds(parsedDefaults.entries);
                const dropped = defaults.filter((gk) => !isExcluded(entries, gk, ARGO_CD_IN_CLUSTER));
                if (dropped.length > 0) {
                    problems.push(
                        `argocd-cm resource.exclusions drops the chart's default exclusion of ${dropped.map(gkName).join(", ")}: the value replaces the chart's list, carry it over`,
                    );
                }
            }
        }
        const carried =
            expect.chartDefaultExclusions === undefined
                ? ""
                : `, and the chart's ${defaults.length} default group/kind pair(s)`;
        results.push(
            result(
                "argocd-resource-exclusions",
                subject,
                problems,
                `excludes ${required.map(gkName).join(", ")} on ${ARGO_CD_IN_CLUSTER}${carried}`,
            ),
        );
    }

    // Without "apps in any namespace" Argo CD reconciles Applications in its own namespace only.
    if (expect.rootApp !== undefined) {
        const problems: string[] = [];
        if (expect.namespace !== undefined && expect.namespace !== release.namespace) {
            problems.push(
                `stack output argoCdNamespace is ${expect.namespace}, but the release is in ${release.namespace}`,
            );
        }
        const apps = expect.registered.filter(
            (r) => r.object.kind === "Application" && r.object.metadata?.name === expect.rootApp,
        );
        if (apps.length !== 1) {
            problems.push(
                `${apps.length} registered Application(s) named ${expect.rootApp} (stack output argoCdRootApp), expected 1`,
            );
        }
        for (const app of apps.filter((a) => a.object.metadata?.namespace !== release.namespace)) {
            problems.push(
                `${objectName(app.object)} (${app.origin}) is not in ${release.namespace}: Argo CD never reconciles it`,
            );
        }
        results.push(
            result(
                "argocd-root-app",
                subject,
                problems,
                `Application ${expect.rootApp} registered in ${release.namespace}`,
            ),
        );
    }
    return results;
}

// ---------------------------------------------------------------------------------------------------------
// The pipeline

/** One release, rendered. */
export interface ReleaseRender {
    readonly release: ReleaseRecord;
    readonly chart: ResolvedChart;
    /** Helm's output, as Helm printed it. */
    readonly manifests: string;
    readonly objects: readonly KubeObject[];
}

/** Renders one release with the resolved chart. */
export function renderRelease(release: ReleaseRecord, chart: ResolvedChart): ReleaseRender {
    const manifests = helmTemplate({
        releaseName: release.releaseName,
        chartPath: chart.path,
        namespace: release.namespace,
        values: release.values,
        includeCrds: true,
    });
    return { release, chart, manifests, objects: parseManifests(manifests, `release ${release.releaseName}`) };
}

export interface CheckInputs {
    readonly run: ProgramRun;
    readonly renders: readonly ReleaseRender[];
    /** The stack's secret config values, by key. */
    readonly stackSecrets?: Readonly<Record<string, string>>;
    /** Directory of reference `*-crds/` folders, the CRD fallback. Defaults to {@link referenceDir}. */
    readonly referenceDir?: string;
    /** See {@link CrdValidationOptions.missingCrd}. Defaults to `fail`. */
    readonly missingCrd?: "fail" | "warn";
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

/** Every check over a rendered stack. */
export function checkStack(inputs: CheckInputs): CheckResult[] {
    const { run, renders } = inputs;
    const catalog = crdCatalog(renders, inputs.referenceDir ?? referenceDir());
    const secrets = secretValuesOf(run, inputs.stackSecrets);
    const results: CheckResult[] = [];
    const objects: ObjectOrigin[] = [
        ...renders.flatMap((r) => r.objects.map((object) => ({ object, origin: `release ${r.release.releaseName}` }))),
        ...registeredCustomResources(run),
    ];
    for (const r of renders) {
        results.push(...checkChartPin(r.release, { ...r.chart.metadata, source: r.chart.source }));
        results.push(...checkNoPlaintextSecrets(r.objects, r.release, secrets));
        const chart = pinnedChart(r.release.chart)?.name ?? r.release.chart;
        if (chart === VELERO_CHART.name) {
            results.push(...checkVeleroFacts(r.objects, r.release, veleroExpectations(run)));
        } else if (chart === ARGO_CD_CHART.name) {
            results.push(
                ...checkArgoCdFacts(
                    r.objects,
                    r.release,
                    argoCdExpectations(run, defaultExclusionsOf(showValues(r.chart.path))),
                ),
            );
        }
    }
    results.push(...validateCustomResources(objects, catalog, { missingCrd: inputs.missingCrd }));
    return results;
}

export interface RenderOptions {
    /** Local charts by chart name, e.g. `{ velero: "/tmp/velero-12.1.0.tgz" }`. */
    readonly charts?: Readonly<Record<string, string>>;
    readonly pull?: PullOptions;
    /** Directory of reference `*-crds/` folders. Defaults to {@link referenceDir}. */
    readonly referenceDir?: string;
    /**
     * Render only releases of these charts; every other release is reported as skipped, and a custom resource
     * whose CRD is then missing only warns. Defaults to all.
     */
    readonly onlyCharts?: readonly string[];
    /** A run of the program for this stack to reuse (its spec's run options), e.g. one a test already made. Defaults to a new run. */
    readonly run?: ProgramRun;
}

/** A whole stack, rendered and checked. */
export interface StackRender {
    readonly stack: string;
    readonly spec: StackSpec;
    readonly run: ProgramRun;
    readonly renders: readonly ReleaseRender[];
    readonly checks: readonly CheckResult[];
}

/** Runs the program for a stack, renders every Helm release it registers and checks the result. */
export async function renderStack(stack: string, options: RenderOptions = {}): Promise<StackRender> {
    const spec = stackSpec(stack);
    const run = options.run ?? (await runProgram(spec.run));
    const skipped: CheckResult[] = [];
    const wanted: ReleaseRecord[] = [];
    for (const release of releasesOf(run)) {
        if (options.onlyCharts !== undefined && !options.onlyCharts.includes(release.chart)) {
            skipped.push({
                check: "release-skipped",
                subject: `release ${release.releaseName}`,
                status: "warn",
                detail: `chart ${release.chart} is not among --only ${options.onlyCharts.join(",")}: not rendered, not checked`,
            });
            continue;
        }
        if (release.repo === undefined && options.charts?.[release.chart] === undefined) {
            throw new Error(
                `release ${release.releaseName}: chart ${release.chart} has no repositoryOpts.repo; pass --chart ${release.chart}=<path>`,
            );
        }
        wanted.push(release);
    }
    // Every chart first, so that a machine without network learns in one run every chart it must provide.
    const charts: ResolvedChart[] = [];
    const unavailable: ChartUnavailableError[] = [];
    for (const release of wanted) {
        try {
            charts.push(
                await resolveChart(
                    { repo: release.repo ?? "", name: release.chart, version: release.version },
                    options.charts?.[release.chart],
                    options.pull,
                ),
            );
        } catch (e) {
            if (!(e instanceof ChartUnavailableError)) {
                throw e;
            }
            unavailable.push(e);
        }
    }
    if (unavailable.length === 1) {
        throw unavailable[0];
    }
    if (unavailable.length > 1) {
        throw new ChartsUnavailableError(unavailable);
    }
    const renders = wanted.map((release, i) => renderRelease(release, charts[i]));
    const checks = [
        ...skipped,
        ...checkStack({
            run,
            renders,
            stackSecrets: spec.run.secrets,
            referenceDir: options.referenceDir,
            missingCrd: options.onlyCharts === undefined ? "fail" : "warn",
        }),
    ];
    return { stack, spec, run, renders, checks };
}

/** The checks as an aligned table, one row per check. */
export function formatChecks(checks: readonly CheckResult[]): string {
    const rows = [
        ["STATUS", "CHECK", "SUBJECT", "DETAIL"],
        ...checks.map((c) => [c.status.toUpperCase(), c.check, c.subject, c.detail]),
    ];
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  ")).join("\n");
}

function comment(text: string): string {
    return text
        .split("\n")
        .map((l) => (l === "" ? "#" : `# ${l}`))
        .join("\n");
}

interface CliArgs {
    stack: string;
    out?: string;
    charts: Record<string, string>;
    only?: string[];
}

function parseArgs(argv: readonly string[]): CliArgs {
    const usage =
        "usage: npm run render -- <stack> [--out <dir>] [--chart <name>=<path>]... [--only <chart>[,<chart>...]]";
    let stack: string | undefined;
    let out: string | undefined;
    let only: string[] | undefined;
    const charts: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--out") {
            out = argv[++i];
            if (out === undefined) {
                throw new Error(`--out needs a directory\n${usage}`);
            }
        } else if (a === "--chart") {
            const spec = argv[++i] ?? "";
            const eq = spec.indexOf("=");
            if (eq <= 0) {
                throw new Error(`--chart needs <name>=<path>, got "${spec}"\n${usage}`);
            }
            charts[spec.slice(0, eq)] = path.resolve(spec.slice(eq + 1));
        } else if (a === "--only") {
            only = (argv[++i] ?? "").split(",").filter((c) => c !== "");
            if (only.length === 0) {
                throw new Error(`--only needs chart names\n${usage}`);
            }
        } else if (a === "-h" || a === "--help") {
            throw new Error(usage);
        } else if (stack === undefined && !a.startsWith("-")) {
            stack = a;
        } else {
            throw new Error(`unexpected argument "${a}"\n${usage}`);
        }
    }
    if (stack === undefined) {
        throw new Error(`no stack given\n${usage}\nstacks: ${Object.keys(STACK_SPECS).join(", ")}`);
    }
    return { stack, out, charts, only };
}

/**
 * The command line: everything but the manifests is printed as YAML comments, so the output stays a valid
 * YAML stream (`npm run -s render -- prod | kubectl apply --dry-run=server -f -` works). Returns the exit code.
 */
export async function main(
    argv: readonly string[],
    write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
    let args: CliArgs;
    try {
        args = parseArgs(argv);
    } catch (e) {
        write(`${comment((e as Error).message)}\n`);
        return 2;
    }
    let rendered: StackRender;
    try {
        const spec = stackSpec(args.stack);
        write(
            `${comment(`gitops-dr render: ${spec.description}\n${PLACEHOLDERS}\nHelm ${helmVersion()} (${helmBinary()})`)}\n`,
        );
        rendered = await renderStack(args.stack, { charts: args.charts, onlyCharts: args.only });
    } catch (e) {
        const known =
            e instanceof ChartUnavailableError || e instanceof ChartsUnavailableError || e instanceof HelmError;
        write(`${comment(`${known ? "" : "render failed: "}${(e as Error).message}`)}\n`);
        return 2;
    }
    for (const r of rendered.renders) {
        const header = `release ${r.release.releaseName} in ${r.release.namespace}: chart ${r.chart.metadata.name} ${r.chart.metadata.version} (${r.chart.source}: ${r.chart.path}), ${r.objects.length} objects`;
        if (args.out !== undefined) {
            const dir = path.join(args.out, rendered.stack);
            fs.mkdirSync(dir, { recursive: true });
            const file = path.join(dir, `${r.release.releaseName}.yaml`);
            fs.writeFileSync(file, r.manifests);
            write(`${comment(`${header}\n  written to ${file}`)}\n`);
        } else {
            write(`${comment(header)}\n${r.manifests.trimEnd()}\n---\n`);
        }
    }
    if (rendered.renders.length === 0) {
        write(`${comment("the program registers no Helm release")}\n`);
    }
    const failed = rendered.checks.filter((c) => c.status === "fail");
    const warned = rendered.checks.filter((c) => c.status === "warn");
    write(
        `${comment(`Checks for ${rendered.stack}: ${rendered.checks.length - failed.length - warned.length} passed, ${warned.length} warned, ${failed.length} failed\n${formatChecks(rendered.checks)}`)}\n`,
    );
    return failed.length > 0 ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e: unknown) => {
            process.stderr.write(`${String(e)}\n`);
            process.exitCode = 2;
        },
    );
}
