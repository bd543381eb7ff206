/**
 * How long a recovery takes, before it starts: a model of Velero's data movement (how many DataDownloads run at
 * once, what each costs on top of its bytes, how the bandwidth is shared), and the plan's own steps around it, the
 * longest chain of which is the recovery's time. A model, not a measurement: every figure it does not take from
 * the stack is in {@link MODEL_ASSUMPTIONS}, and a drill's report (`pulumi stack output drillReport`) gives the
 * measured counterparts to check it against (README "Recovery time").
 *
 * How Velero v1.18.1 moves a restore's data (what the model follows):
 * - each restored claim of a data-mover backup gets one DataDownload (`pkg/restore/actions/csi/pvc_action.go`);
 *   every DataDownload is exposed as soon as it is created, a restore volume and a data-mover pod each, unless
 *   `loadConcurrency.prepareQueueLength` limits it (`pkg/controller/data_download_controller.go`): the exposes
 *   overlap, and are paid about once;
 * - a node's node agent runs at most `loadConcurrency` transfers at once; a Prepared DataDownload beyond that is
 *   requeued every 5 s (`ConcurrentLimitExceed`), so volumes move in rounds of `nodes x loads`;
 * - one transfer is kopia restoring a snapshot with `parallelFilesDownload` files at once, by default the
 *   node's CPU count (`pkg/uploader/kopia/snapshot.go`).
 */
import { NODE_AGENT_CONFIGMAP_KEY } from "../../components/velero/node-agent";
import type { ProgramRun } from "../../engine";
import type { Plan, PlanStep } from "./model";
import { HELM_RELEASE, metaOf, specOf } from "./registrations";

/** What the operator tells the estimate: the data to move and the cluster that receives it. */
export interface EstimateInput {
    /** Volume data in the backup, GiB (what kopia restores, not the claims' requested size). */
    readonly dataGiB: number;
    /** Claims whose data is moved (one DataDownload each). */
    readonly volumes: number;
    /** Nodes that run data-mover pods. */
    readonly nodes: number;
    /** Bandwidth from the bucket into the cluster, all nodes together, MiB/s. */
    readonly throughputMiB: number;
}

/** The data path's settings the estimate is for. */
export interface DataPathChoice {
    readonly label: string;
    /** node-agent `loadConcurrency` per node. */
    readonly loadsPerNode: number;
    /** kopia's files at once per volume; undefined: Velero's default, the node's CPU count. */
    readonly filesPerVolume?: number;
}

/**
 * What the model assumes and does not measure. Each is a typical figure, to be replaced by a drill's measurement
 * (its report's restore duration, DataDownload bytes and durations).
 */
export const MODEL_ASSUMPTIONS = {
    /** CPUs per node, for Velero's default file parallelism (runtime.NumCPU): a 4-vCPU node (m6i.xlarge, a NUC). */
    nodeCpus: 4,
    /** Exposing the DataDownloads (restore volumes created and attached, data-mover pods started), once, s. */
    exposeSeconds: 60,
    /**
     * Per volume, in its load slot, besides its bytes, s: the requeue wait (up to 5 s), kopia opening the
     * repository and the snapshot, rebinding the restored volume to its claim.
     */
    perVolumeSeconds: 20,
    /** One kopia file stream from the bucket, MiB/s (one file's contents read and written in order). */
    perFileStreamMiB: 25,
    /** Kubernetes items Velero restores per claim (claim, Secrets, ServiceAccounts around it), and items/s. */
    itemsPerVolume: 4,
    itemsPerSecond: 20,
    /** A Helm release of the plan: images pulled, CRDs upgraded, pods ready, min. */
    helmMinutes: 3,
    /** The source location Available and its backups synced: Velero validates and syncs once a minute, min. */
    syncMinutes: 2,
    /** One task Job of the plan (the checks before and after a restore), min. */
    taskMinutes: 1,
    /** Argo CD syncing every app and their pods ready on the restored claims, min: depends on your apps. */
    argoCdSyncMinutes: 10,
} as const;

export type ModelAssumptions = { readonly [K in keyof typeof MODEL_ASSUMPTIONS]: number };

/** The data movement's figures. */
export interface DataMovementEstimate {
    readonly choice: DataPathChoice;
    /** Transfers running at once in the cluster. */
    readonly slots: number;
    /** Rounds of `slots` volumes one after the other. */
    readonly rounds: number;
    /** Files at once per volume, resolved. */
    readonly filesPerVolume: number;
    /** MiB/s one transfer gets: its share of the bandwidth, at most its file streams'. */
    readonly perTransferMiB: number;
    /** Whether the bandwidth (not the file streams) limits a transfer. */
    readonly bandwidthBound: boolean;
    /** Seconds of one round: the per-volume cost plus one volume's bytes at `perTransferMiB`. */
    readonly roundSeconds: number;
    /** Seconds from the first DataDownload to the last one's end. */
    readonly seconds: number;
}

const positive = (name: string, v: number): void => {
    if (!Number.isFinite(v) || v <= 0) {
        throw new Error(`${name} must be a positive number, got ${v}`);
    }
};

/** Data movement's time for equal-sized volumes spread evenly over the nodes. Pure arithmetic. */
export function dataMovement(
    input: EstimateInput,
    choice: DataPathChoice,
    a: ModelAssumptions = MODEL_ASSUMPTIONS,
): DataMovementEstimate {
    positive("--data-gib", input.dataGiB);
    positive("--nodes", input.nodes);
    positive("--throughput-mib", input.throughputMiB);
    if (!Number.isInteger(input.volumes) || input.volumes < 1 || !Number.isInteger(input.nodes)) {
        throw new Error(`--volumes and --nodes must be whole numbers of at least 1`);
    }
    const slots = Math.min(input.volumes, input.nodes * choice.loadsPerNode);
    const rounds = Math.ceil(input.volumes / (input.nodes * choice.loadsPerNode));
    const filesPerVolume = choice.filesPerVolume ?? a.nodeCpus;
    const share = input.throughputMiB / slots;
    const streams = filesPerVolume * a.perFileStreamMiB;
    const perTransferMiB = Math.min(share, streams);
    const volumeMiB = (input.dataGiB * 1024) / input.volumes;
    const roundSeconds = a.perVolumeSeconds + volumeMiB / perTransferMiB;
    return {
        choice,
        slots,
        rounds,
        filesPerVolume,
        perTransferMiB,
        bandwidthBound: share <= streams,
        roundSeconds,
        seconds: a.exposeSeconds + rounds * roundSeconds,
    };
}

/** One step of the critical path and the minutes the model gives it. */
export interface PathStep {
    readonly step: PlanStep;
    readonly minutes: number;
    readonly why: string;
}

/** Whether a step is the data Restore (not the credentials one, which holds no volume). */
const isDataRestore = (s: PlanStep): boolean =>
    s.type === "kubernetes:velero.io/v1:Restore" && !s.objectName.endsWith("-credentials");

/** The minutes the model gives one step of the plan, and why. */
export function stepMinutes(
    step: PlanStep,
    input: EstimateInput,
    data: DataMovementEstimate,
    a: ModelAssumptions = MODEL_ASSUMPTIONS,
): { minutes: number; why: string } {
    if (step.reason === "helm") {
        return { minutes: a.helmMinutes, why: "Helm install (assumed)" };
    }
    if (step.type === "kubernetes:velero.io/v1:BackupStorageLocation") {
        return { minutes: a.syncMinutes, why: "location Available, backups synced (assumed)" };
    }
    if (isDataRestore(step)) {
        const items = (input.volumes * a.itemsPerVolume) / a.itemsPerSecond / 60;
        return {
            minutes: items + data.seconds / 60,
            why: `items ${hoursText(items)} + data movement ${hoursText(data.seconds / 60)}`,
        };
    }
    if (step.type === "kubernetes:velero.io/v1:Restore") {
        return { minutes: a.taskMinutes, why: "Secrets only, no volume (assumed)" };
    }
    if (step.type === "kubernetes:argoproj.io/v1alpha1:Application") {
        return { minutes: a.argoCdSyncMinutes, why: "Argo CD syncs the apps (assumed: depends on your apps)" };
    }
    if (step.reason === "job") {
        return { minutes: a.taskMinutes, why: "task Job (assumed)" };
    }
    return { minutes: 0, why: "done when the API accepts it" };
}

/** The longest chain of the plan's steps (by `after`), with the minutes of each. */
export function criticalPath(plan: Plan, minutesOf: (s: PlanStep) => { minutes: number; why: string }): PathStep[] {
    const byUrn = new Map(plan.steps.map((s) => [s.urn, s]));
    const best = new Map<string, { total: number; path: PathStep[] }>();
    // Steps are in dependency order, so every step's predecessors are done when it is reached.
    for (const step of plan.steps) {
        const own = minutesOf(step);
        const before = step.after
            .map((u) => best.get(u))
            .filter((b): b is { total: number; path: PathStep[] } => b !== undefined)
            .reduce<{ total: number; path: PathStep[] }>((x, y) => (y.total > x.total ? y : x), { total: 0, path: [] });
        best.set(step.urn, {
            total: before.total + own.minutes,
            path: [...before.path, { step: byUrn.get(step.urn)!, ...own }],
        });
    }
    return [...best.values()].reduce<{ total: number; path: PathStep[] }>((x, y) => (y.total > x.total ? y : x), {
        total: 0,
        path: [],
    }).path;
}

/** A recovery's estimate for one data path. */
export interface RecoveryEstimate {
    readonly data: DataMovementEstimate;
    readonly path: readonly PathStep[];
    readonly totalMinutes: number;
}

export function estimateRecovery(
    plan: Plan,
    input: EstimateInput,
    choice: DataPathChoice,
    a: ModelAssumptions = MODEL_ASSUMPTIONS,
): RecoveryEstimate {
    const data = dataMovement(input, choice, a);
    const path = criticalPath(plan, (s) => stepMinutes(s, input, data, a));
    return { data, path, totalMinutes: path.reduce((n, p) => n + p.minutes, 0) };
}

/** Minutes as hours and minutes: `45m`, `3h05m`. */
export function hoursText(minutes: number): string {
    const m = Math.round(minutes);
    return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** The data path a stack configures, read from what the program registered (the node-agent ConfigMap, the Restore). */
export function stackDataPath(plan: Plan, run: ProgramRun): DataPathChoice {
    const release = run.resources.find((r) => HELM_RELEASE.test(r.type) && r.inputs.chart === "velero");
    const configMaps = (release?.inputs.values as { configMaps?: Record<string, { data?: Record<string, string> }> })
        ?.configMaps;
    const nodeAgentDocument = Object.values(configMaps?.[NODE_AGENT_CONFIGMAP_KEY]?.data ?? {})[0];
    const restore = run.resources.find(
        (r) => r.type === "kubernetes:velero.io/v1:Restore" && !String(metaOf(r).name ?? "").endsWith("-credentials"),
    );
    const restoreSpec = restore === undefined ? undefined : specOf(restore);
    const doc = nodeAgentDocument === undefined ? {} : (JSON.parse(nodeAgentDocument) as Record<string, unknown>);
    const loads = (doc.loadConcurrency as { globalConfig?: number } | undefined)?.globalConfig;
    const files = (restoreSpec?.uploaderConfig as { parallelFilesDownload?: number } | undefined)
        ?.parallelFilesDownload;
    return {
        label: `stack ${plan.stack}`,
        loadsPerNode: loads !== undefined && loads > 0 ? loads : 1,
        filesPerVolume: files,
    };
}

/** Velero's own settings: one load per node, the node's CPU count of files. */
export const VELERO_DEFAULTS: DataPathChoice = { label: "Velero's defaults", loadsPerNode: 1 };

/** The estimate as the terminal shows it, for the stack's data path against Velero's defaults. */
export function formatEstimate(
    plan: Plan,
    input: EstimateInput,
    ours: DataPathChoice,
    a: ModelAssumptions = MODEL_ASSUMPTIONS,
): string {
    const mine = estimateRecovery(plan, input, ours, a);
    const theirs = estimateRecovery(plan, input, VELERO_DEFAULTS, a);
    const files = (c: DataPathChoice) =>
        c.filesPerVolume === undefined ? `${a.nodeCpus} (node CPUs)` : String(c.filesPerVolume);
    const describe = (e: RecoveryEstimate) =>
        `${e.data.choice.label}: ${e.data.choice.loadsPerNode} load(s)/node, ${files(e.data.choice)} files/volume -> ` +
        `${e.data.slots} at once, ${e.data.rounds} round(s) of ${Math.round(e.data.roundSeconds)} s, ` +
        `${e.data.perTransferMiB.toFixed(0)} MiB/s each (${e.data.bandwidthBound ? "bandwidth" : "file streams"} bound): ` +
        `data movement ${hoursText(e.data.seconds / 60)}`;
    const lines = [
        "",
        `Recovery time estimate (a model, not a measurement): ${input.dataGiB} GiB in ${input.volumes} volumes, ` +
            `${input.nodes} nodes, ${input.throughputMiB} MiB/s from the bucket.`,
        `  Assumed: equal volumes spread evenly over the nodes; ${a.exposeSeconds} s to expose them all; ` +
            `${a.perVolumeSeconds} s per volume besides its bytes; ${a.perFileStreamMiB} MiB/s per kopia file stream; ` +
            `${a.nodeCpus} CPUs per node; Helm ${a.helmMinutes}m, sync ${a.syncMinutes}m, tasks ${a.taskMinutes}m, ` +
            `Argo CD ${a.argoCdSyncMinutes}m. Measure yours with a drill (README "Recovery time").`,
        `  ${describe(mine)}`,
        `  ${describe(theirs)}`,
    ];
    if (!plan.steps.some(isDataRestore)) {
        lines.push(`  Stack ${plan.stack} restores nothing: the estimate is the data movement of its recovery alone.`);
        return `${lines.join("\n")}\n`;
    }
    lines.push(`  Critical path of stack ${plan.stack} with its own settings:`);
    for (const p of mine.path) {
        lines.push(
            `    ${p.step.number} ${p.step.kind} ${p.step.objectName}`.padEnd(72) +
                `${hoursText(p.minutes).padStart(7)}  ${p.why}`,
        );
    }
    lines.push(`  Total: ${hoursText(mine.totalMinutes)} (${hoursText(theirs.totalMinutes)} with Velero's defaults).`);
    return `${lines.join("\n")}\n`;
}

/** The estimate flags of `npm run plan`, or undefined when none is given. */
export function parseEstimateFlags(argv: readonly string[]): { input?: EstimateInput; rest: string[] } {
    const names = {
        "--data-gib": "dataGiB",
        "--volumes": "volumes",
        "--nodes": "nodes",
        "--throughput-mib": "throughputMiB",
    } as const;
    const values: Partial<Record<(typeof names)[keyof typeof names], number>> = {};
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].split("=", 2) as [string, string | undefined];
        if (!(flag in names)) {
            rest.push(argv[i]);
            continue;
        }
        const raw = inline ?? argv[++i];
        const n = Number(raw);
        if (raw === undefined || raw === "" || !Number.isFinite(n) || n <= 0) {
            throw new Error(`${flag} takes a positive number, got ${JSON.stringify(raw ?? "")}`);
        }
        values[names[flag as keyof typeof names]] = n;
    }
    const given = Object.keys(values);
    if (given.length === 0) {
        return { rest };
    }
    const missing = Object.entries(names)
        .filter(([, k]) => values[k] === undefined)
        .map(([f]) => f);
    if (missing.length > 0) {
        throw new Error(
            `the estimate needs ${missing.join(", ")} too (all of --data-gib, --volumes, --nodes, --throughput-mib)`,
        );
    }
    return {
        input: {
            dataGiB: values.dataGiB!,
            volumes: values.volumes!,
            nodes: values.nodes!,
            throughputMiB: values.throughputMiB!,
        },
        rest,
    };
}
