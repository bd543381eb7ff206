/**
 * Velero as the program registers it: the Helm release (chart values), and the Velero objects a program may
 * register itself (Schedule, BackupStorageLocation, Restore custom resources). A schedule or location counts
 * the same whether the chart renders it from values or the program registers it.
 */
import { T } from "./types";
import { Node, StackView } from "./view";
import { Json, arr, at, bool, obj, str, strings } from "./values";

/**
 * The weekly verification's scratch namespaces, as gitops-dr's Schedules exclude them (components/velero/names.ts
 * `VERIFY_SCRATCH_NAMESPACES`; the pack does not import the program).
 */
export const VERIFY_SCRATCH_NAMESPACES = "gdr-verify-*";

/** The chart name of a Helm release: `velero`, `repo/velero` and `oci://host/path/velero` all name velero. */
export function chartName(release: { readonly props: Json }): string {
    const chart = str(release.props.chart) ?? "";
    return chart.substring(chart.lastIndexOf("/") + 1);
}

/** The Helm releases of a chart. */
export function releasesOf(view: StackView, chart: string): Node[] {
    return view.ofType(T.helmRelease).filter((r) => chartName(r) === chart);
}

/** A release's values (`values` input of `kubernetes:helm.sh/v3:Release`). */
export function valuesOf(release: { readonly props: Json }): Json {
    return obj(release.props.values) ?? {};
}

/** The Helm release name: the `name` input, else the Pulumi name (the provider then adds a suffix). */
export function releaseName(release: Node): string {
    return str(release.props.name) ?? release.name;
}

/**
 * The velero chart's `velero.fullname`: `fullnameOverride`, else the release name when it contains the chart
 * name ("velero"), else `<release>-velero` (chart `_helpers.tpl`, DESIGN §1).
 */
export function veleroFullname(release: Node): string {
    const override = str(valuesOf(release).fullnameOverride);
    if (override !== undefined && override !== "") {
        return override;
    }
    const name = releaseName(release);
    return name.includes("velero") ? name : `${name}-velero`;
}

/** Velero's namespace: the release's `namespace` input. */
export function releaseNamespace(release: Node): string | undefined {
    return str(release.props.namespace);
}

/** A backup storage location, from chart values or a BackupStorageLocation object. */
export interface Location {
    readonly name: string;
    readonly bucket?: string;
    readonly prefix?: string;
    /** `ReadWrite` when unset, as Velero defaults it. */
    readonly accessMode: string;
    readonly isDefault: boolean;
    /** Where it is declared, for messages. */
    readonly where: string;
    readonly node: Node;
}

export function locations(view: StackView): Location[] {
    const result: Location[] = [];
    for (const release of releasesOf(view, "velero")) {
        (arr(at(valuesOf(release), "configuration", "backupStorageLocation")) ?? []).forEach((item, i) => {
            const l = obj(item) ?? {};
            result.push({
                name: str(l.name) ?? "default",
                bucket: str(l.bucket),
                prefix: str(l.prefix),
                accessMode: str(l.accessMode) ?? "ReadWrite",
                isDefault: bool(l.default) ?? false,
                where: `${release.name} values configuration.backupStorageLocation[${i}]`,
                node: release,
            });
        });
    }
    for (const bsl of view.ofType(T.backupStorageLocation)) {
        const spec = obj(bsl.props.spec) ?? {};
        result.push({
            name: str(at(bsl.props, "metadata", "name")) ?? bsl.name,
            bucket: str(at(spec, "objectStorage", "bucket")),
            prefix: str(at(spec, "objectStorage", "prefix")),
            accessMode: str(spec.accessMode) ?? "ReadWrite",
            isDefault: bool(spec.default) ?? false,
            where: `BackupStorageLocation ${bsl.name}`,
            node: bsl,
        });
    }
    return result;
}

/** A backup schedule, from the chart's `schedules` values or a Schedule object. */
export interface Schedule {
    /** The Schedule object's name, which backups carry as `velero.io/schedule-name`. */
    readonly name: string;
    readonly cron?: string;
    readonly paused: boolean;
    readonly template: Json;
    /** True when the chart renders it (created with Velero itself). */
    readonly fromChart: boolean;
    /**
     * `credentials` for a Schedule labelled `gitops-dr.io/backup-kind: credentials` that backs up Secrets and
     * nothing else (the sealing keys and Argo CD credentials, selected by label); `data` for every other one,
     * labelled or not, so that a label alone never exempts a schedule from the data rules.
     */
    readonly kind: "data" | "credentials";
    /** Where it is declared, for messages. */
    readonly where: string;
    readonly node: Node;
}

/** The label gitops-dr's credentials Schedule carries (components/velero/credentials.ts). */
export const BACKUP_KIND_LABEL = "gitops-dr.io/backup-kind";

/** A Schedule labelled as the credentials backup whose template takes Secrets and nothing else. */
function credentialsOnly(node: Node, template: Json): boolean {
    const labelled = str(at(node.props, "metadata", "labels", BACKUP_KIND_LABEL)) === "credentials";
    const included = strings(template.includedResources).map((r) => r.toLowerCase());
    return (
        labelled &&
        included.length > 0 &&
        included.every((r) => r === "secrets" || r === "secret") &&
        template.includedClusterScopedResources === undefined &&
        template.includedNamespaceScopedResources === undefined &&
        template.includeClusterResources === false
    );
}

/** The schedules that back up the cluster's data: every one but the credentials Schedule. */
export function dataSchedules(view: StackView): Schedule[] {
    return schedules(view).filter((s) => s.kind === "data");
}

export function schedules(view: StackView): Schedule[] {
    const result: Schedule[] = [];
    for (const release of releasesOf(view, "velero")) {
        const fullname = veleroFullname(release);
        for (const [key, entry] of Object.entries(obj(valuesOf(release).schedules) ?? {})) {
            const s = obj(entry) ?? {};
            // The chart skips entries marked disabled.
            if (bool(s.disabled) === true) {
                continue;
            }
            result.push({
                name: `${fullname}-${key}`,
                cron: str(s.schedule),
                paused: bool(s.paused) ?? false,
                template: obj(s.template) ?? {},
                fromChart: true,
                kind: "data",
                where: `schedule ${fullname}-${key} (${release.name} values schedules.${key})`,
                node: release,
            });
        }
    }
    for (const node of view.ofType(T.schedule)) {
        const spec = obj(node.props.spec) ?? {};
        const name = str(at(node.props, "metadata", "name")) ?? node.name;
        result.push({
            name,
            cron: str(spec.schedule),
            paused: bool(spec.paused) ?? false,
            template: obj(spec.template) ?? {},
            fromChart: false,
            kind: credentialsOnly(node, obj(spec.template) ?? {}) ? "credentials" : "data",
            where: `schedule ${name} (Schedule ${node.name})`,
            node,
        });
    }
    return result;
}

/** Name of the Secret holding kopia's repository password (velero `pkg/repository/keys/keys.go`). */
export const REPO_CREDENTIALS_SECRET = "velero-repo-credentials";
/** Its data key. */
export const REPO_PASSWORD_KEY = "repository-password";
/**
 * The password Velero writes into that Secret when it does not exist (velero `pkg/repository/keys/keys.go`;
 * velero #6443): public, so a repository created with it is readable by anyone who can read the bucket.
 */
export const VELERO_DEFAULT_REPO_PASSWORD = "static-passw0rd";

/** The repository password a Secret holds under `repository-password`, from `stringData` or base64 `data`. */
export function repoPassword(secret: Node): string | undefined {
    const plain = str(at(secret.props, "stringData", REPO_PASSWORD_KEY));
    if (plain !== undefined) {
        return plain;
    }
    const encoded = str(at(secret.props, "data", REPO_PASSWORD_KEY));
    return encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8");
}

/** The repository-credentials Secrets of the stack, by their Kubernetes name. */
export function repoCredentialSecrets(view: StackView): Node[] {
    return view.ofType(T.secret).filter((s) => str(at(s.props, "metadata", "name")) === REPO_CREDENTIALS_SECRET);
}

/** The Restore objects of the stack. */
export function restores(view: StackView): Node[] {
    return view.ofType(T.restore);
}

/** Annotation through which `@pulumi/kubernetes` (4.18+) waits for a condition on any object (DESIGN §1). */
export const WAIT_FOR_ANNOTATION = "pulumi.com/waitFor";
/** Annotation that stops `@pulumi/kubernetes` from waiting for an object at all. */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

export function annotation(node: Node, key: string): string | undefined {
    return str(at(node.props, "metadata", "annotations", key));
}

/** Whether the provider is told not to wait for the object. */
export function skipsAwait(node: Node): boolean {
    return annotation(node, SKIP_AWAIT_ANNOTATION) === "true";
}

/** Every phase a Restore can end in (velero `pkg/apis/velero/v1/restore_types.go`). */
export const TERMINAL_RESTORE_PHASES = ["Completed", "PartiallyFailed", "Failed", "FailedValidation"] as const;

/** The conditions of a `pulumi.com/waitFor` annotation: one condition, or a JSON array that must all hold. */
export function waitForConditions(node: Node): string[] {
    const waitFor = annotation(node, WAIT_FOR_ANNOTATION);
    if (waitFor === undefined) {
        return [];
    }
    try {
        const parsed: unknown = JSON.parse(waitFor);
        return Array.isArray(parsed)
            ? parsed.filter((c): c is string => typeof c === "string").map((c) => c.trim())
            : [waitFor.trim()];
    } catch {
        return [waitFor.trim()];
    }
}

/**
 * Whether a Restore is awaited until it has ended: `pulumi.com/waitFor` holds on `Completed` and only on
 * terminal phases, either `jsonpath={.status.phase}=Completed` or an RFC 9535 filter over the status listing
 * terminal phases (`jsonpath={.status[?@ == 'Completed' || @ == 'Failed' ...]}`). `waitFor` has no failure
 * condition (DESIGN §1), so a program that waits for every terminal phase checks the phase itself before
 * anything depends on the restore; the pack cannot see that check.
 */
export function awaitsEnd(restore: Node): boolean {
    if (skipsAwait(restore)) {
        return false;
    }
    return waitForConditions(restore).some((c) => {
        if (/^jsonpath=\{\s*\$?\.status\.phase\s*\}\s*=\s*"?Completed"?$/.test(c)) {
            return true;
        }
        if (!/^jsonpath=\{\s*\$?\.status(\.phase)?\s*\[\?/.test(c)) {
            return false;
        }
        const phases = [...c.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2]);
        return (
            phases.includes("Completed") &&
            phases.every((p) => (TERMINAL_RESTORE_PHASES as readonly string[]).includes(p))
        );
    });
}

/**
 * Whether a BackupStorageLocation is awaited until it is `Available` and has synced (`status.lastSyncedTime`,
 * set after each sync, velero `pkg/controller/backup_sync_controller.go`): a sync barrier.
 */
export function awaitsSync(location: Node): boolean {
    if (skipsAwait(location)) {
        return false;
    }
    const conditions = waitForConditions(location);
    return (
        conditions.some((c) => /^jsonpath=\{\s*\$?\.status\.phase\s*\}\s*=\s*"?Available"?$/.test(c)) &&
        conditions.some((c) => /^jsonpath=\{\s*\$?\.status\.lastSyncedTime\s*\}/.test(c))
    );
}
