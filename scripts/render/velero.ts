/**
 * The Velero fact checks: what the program relies on from a Velero release, read from the run
 * ({@link veleroExpectations}), and one check per fact against the chart's rendered objects and the velero.io
 * objects the program registers itself. {@link checkVeleroFacts} runs them all, in the order of the results.
 */
import { ProgramRun, RegisteredResource } from "../../engine";
import { findObject, objectName } from "./manifests";
import { KubeObject, ObjectOrigin, ReleaseRecord, registeredCustomResources } from "./records";
import { CheckResult, result } from "./report";
import { forEachString, isRecord, str, strings } from "./values";

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

/** The `configuration` values of a Velero release: the chart's server settings. */
function configurationOf(release: ReleaseRecord): Record<string, unknown> {
    return isRecord(release.values.configuration) ? release.values.configuration : {};
}

/** The locations rendered by the chart and registered by the program, and all of them. */
function locationsOf(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: VeleroExpectations,
): { rendered: Location[]; registered: Location[]; locations: Location[] } {
    const subject = `release ${release.releaseName}`;
    const rendered = manifests.filter((m) => m.kind === "BackupStorageLocation").map((o) => locationOf(o, subject));
    const registered = expect.registered
        .filter((r) => r.object.kind === "BackupStorageLocation")
        .map((r) => locationOf(r.object, r.origin));
    // Every location the server will see, whoever creates it.
    return { rendered, registered, locations: [...rendered, ...registered] };
}

/** Every location in the values is rendered as given, and no other; none is also a Pulumi resource. */
export function checkLocations(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: VeleroExpectations,
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const configuration = configurationOf(release);
    const { rendered, registered, locations } = locationsOf(manifests, release, expect);
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
    return [result("velero-locations", subject, problems, summary.length === 0 ? "no location" : summary.join(", "))];
}

/** The cluster writes only under its own prefix and only reads the source prefix; a drill writes nowhere. */
export function checkLocationAccess(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: VeleroExpectations,
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const { locations } = locationsOf(manifests, release, expect);
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
        return [result("velero-location-access", subject, problems, pass.join("; "))];
    }
    return [];
}

/** Every location a Schedule or Backup names exists, every schedule and restore the program reports is there. */
export function checkReferences(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: VeleroExpectations,
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const { locations } = locationsOf(manifests, release, expect);
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
        problems.push(`restore ${expect.restoreName} (stack output restore.restoreName) is not a registered Restore`);
    }
    if (referenced.length > 0 || expect.scheduleNames.length > 0 || expect.restoreName !== undefined) {
        const restore = expect.restoreName === undefined ? "" : `, restore ${expect.restoreName}`;
        return [
            result(
                "velero-references",
                subject,
                problems,
                `${referenced.length} location reference(s), ${expect.scheduleNames.length} schedule(s)${restore} found`,
            ),
        ];
    }
    return [];
}

/**
 * Every velero.io object the program registers is in the release's namespace. The server caches and reconciles
 * only its own namespace (velero pkg/cmd/server/server.go, the manager's
 * `cache.Options{DefaultNamespaces: {f.Namespace(): {}}}`): an object elsewhere is silently ignored.
 */
export function checkNamespace(release: ReleaseRecord, expect: VeleroExpectations): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    if (expect.registered.length === 0) {
        return [];
    }
    const problems = expect.registered
        .filter((r) => r.object.metadata?.namespace !== release.namespace)
        .map(
            (r) =>
                `${objectName(r.object)} (${r.origin}) is not in ${release.namespace}: the Velero server never sees it`,
        );
    return [
        result(
            "velero-namespace",
            subject,
            problems,
            `${expect.registered.length} registered Velero object(s) in ${release.namespace}`,
        ),
    ];
}

/** The node agent gets --node-agent-configmap, and that ConfigMap is rendered with one JSON document. */
export function checkNodeAgentConfigMap(manifests: readonly KubeObject[], release: ReleaseRecord): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const values = release.values;
    const daemonSet = findObject(manifests, "DaemonSet", "node-agent");
    if (daemonSet === undefined && values.deployNodeAgent !== true) {
        return [];
    }
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
    return [
        result(
            "velero-node-agent",
            subject,
            problems,
            `${NODE_AGENT_CONFIGMAP_FLAG}${configMapName}, ConfigMap rendered`,
        ),
    ];
}

/** Server flags: what the program sets in `configuration` reaches the server. */
export function checkServerFlags(manifests: readonly KubeObject[], release: ReleaseRecord): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const configuration = configurationOf(release);
    const deployment = findObject(manifests, "Deployment", "velero");
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
        !args.some((a) => a.startsWith("--features=") && a.slice("--features=".length).split(",").includes("EnableCSI"))
    ) {
        problems.push(
            "defaultSnapshotMoveData needs --features=EnableCSI: without it the CSI backup action never runs",
        );
    }
    return [result("velero-server-args", subject, problems, args.filter((a) => a.startsWith("--")).join(" "))];
}

/** IRSA: the server's ServiceAccount carries the role and is the subject the role trusts. */
export function checkIrsa(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: VeleroExpectations,
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    if (expect.irsaRoleArn === undefined) {
        return [];
    }
    const deployment = findObject(manifests, "Deployment", "velero");
    const daemonSet = findObject(manifests, "DaemonSet", "node-agent");
    const problems: string[] = [];
    const saName = podServiceAccount(deployment);
    const sa = findObject(manifests, "ServiceAccount", saName);
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
    return [
        result("velero-irsa", subject, problems, `${String(saName)} has ${IRSA_ANNOTATION}, trusted as ${subject_}`),
    ];
}

/** Checks a rendered Velero release against what the program relies on: every check above, in this order. */
export function checkVeleroFacts(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: VeleroExpectations,
): CheckResult[] {
    return [
        ...checkLocations(manifests, release, expect),
        ...checkLocationAccess(manifests, release, expect),
        ...checkReferences(manifests, release, expect),
        ...checkNamespace(release, expect),
        ...checkNodeAgentConfigMap(manifests, release),
        ...checkServerFlags(manifests, release),
        ...checkIrsa(manifests, release, expect),
    ];
}
