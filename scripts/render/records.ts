/**
 * What the engine recorded of a program run, read for rendering: the Helm releases the program registers, the
 * velero.io and argoproj.io custom resources it registers itself, and the secret values of the run.
 */
import { ProgramRun } from "../../engine";
import { forEachString, isRecord, str, valueAt } from "./values";

/** The type token of a Helm release registered through `kubernetes.helm.v3.Release`. */
export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

/** API groups whose objects are checked against their CRD. */
export const CR_GROUPS = ["velero.io", "argoproj.io"] as const;

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
