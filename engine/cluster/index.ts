/**
 * The simulated cluster of one run: its objects (store.ts), Velero (velero.ts), and the in-cluster tasks the
 * program runs as Jobs, executed here by the same code the Job runs (components/tasks/runner.js) against the
 * simulated API. What the program registers is put into the cluster as it is registered, so a task or a restore
 * sees what exists at that point of the update.
 */
import type { ClusterScenario } from "./scenario";
import { apiServerEndpoints, defaultBackup, defaultCredentialsBackup, defaultTargetObjects } from "./scenario";
import { ClusterStore, KubeApi, KubeObject, objectPath } from "./store";
import { SimulatedVelero } from "./velero";

export * from "./backup-volumes";
export * from "./conflicts";
export * from "./resource-list";
export * from "./scenario";
export * from "./store";
export * from "./velero";

const runner = require("../../components/tasks/runner.js") as {
    run(
        api: KubeApi,
        task: string,
        env: Record<string, string | undefined>,
        terminationLog: (m: string) => void,
        log: (m: string) => void,
    ): Promise<number>;
};

/** The command a task Job runs (components/tasks/index.ts). */
const RUNNER = "/gitops-dr/runner.js";

/** A task Job's end: the live Job, or the message its await reports. */
export type TaskOutcome = { readonly job: KubeObject } | { readonly failure: string };

export class SimulatedCluster {
    readonly store: ClusterStore;
    readonly velero: SimulatedVelero;
    /** What the tasks printed, for a test to read. */
    readonly logs: string[] = [];

    /**
     * @param startedAt when the update started (ms); the cluster's clock starts there.
     * @param schedules the daily and credentials schedules the stack restores from, for the default backups.
     */
    constructor(
        readonly scenario: ClusterScenario,
        startedAt: number,
        schedules: { readonly daily: readonly string[]; readonly credentials: readonly string[] },
        backupTakenAt: string,
    ) {
        this.store = new ClusterStore(startedAt);
        for (const o of scenario.objects ?? defaultTargetObjects()) {
            this.store.put(o);
        }
        // The API servers keep the `kubernetes` Service's endpoints in every cluster (`pkg/controlplane/reconcilers`).
        if (this.store.all().every((o) => o.kind !== "Endpoints")) {
            this.store.put(apiServerEndpoints());
        }
        const backups = [
            ...(scenario.backups ?? [...new Set(schedules.daily)].map((s) => defaultBackup(s, backupTakenAt))),
            ...(scenario.credentialsBackups ??
                [...new Set(schedules.credentials)].map((s) => defaultCredentialsBackup(s, backupTakenAt))),
        ];
        this.velero = new SimulatedVelero(this.store, backups, scenario.restore, scenario.bucketBackups);
        // A Restore a task creates (components/tasks/verify.js) runs at once; the program's own go through its await.
        this.store.onCreate.push((_path, o) => {
            if (o.kind === "Restore") {
                const at = this.store.now().toISOString();
                this.store.put({ ...o, ...this.velero.restore(o, { start: at, end: at }) });
            }
        });
    }

    /** Puts a registered object into the cluster, when the store serves its kind. */
    register(o: KubeObject): void {
        if (objectPath(o) !== undefined) {
            this.store.put(o);
        }
    }

    /** Whether a Job runs one of the program's tasks. */
    static isTaskJob(job: KubeObject): boolean {
        const command = (job.spec?.template?.spec?.containers?.[0]?.command ?? []) as string[];
        return command[1] === RUNNER;
    }

    /**
     * Runs a task Job the way the cluster would: the container's command with its environment, against this
     * cluster; then the Job as its await returns it, or the failure it reports (`await/checker/pod/check.go`
     * `containerTerminatedError`: `[Error] <termination message>`).
     */
    async runTask(job: KubeObject, completionTime: string): Promise<TaskOutcome> {
        const container = job.spec.template.spec.containers[0] as KubeObject;
        const env = Object.fromEntries(
            ((container.env ?? []) as { name: string; value?: string }[]).map((e) => [e.name, e.value]),
        );
        this.register(job);
        let message = "";
        const code = await runner.run(
            this.store,
            String(container.command[2]),
            env,
            (m) => (message = m),
            (line) => this.logs.push(line),
        );
        const path = objectPath(job)!;
        const live = (await this.store.get(path)) ?? job;
        if (code !== 0) {
            return {
                failure: `Job ${String(job.metadata.namespace)}/${String(job.metadata.name)} failed: [Error] ${message}`,
            };
        }
        const status = { succeeded: 1, completionTime, conditions: [{ type: "Complete", status: "True" }] };
        this.store.setStatus(path, status);
        return { job: { ...live, status } };
    }
}
