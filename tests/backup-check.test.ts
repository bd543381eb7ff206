/**
 * The check after each backup that every backed-up claim has data (components/verify/backup-check.ts,
 * components/tasks/backup-check.js): what the stacks register, then the task, as its own service account, on
 * simulated clusters whose backups Velero took the way v1.18.1 does (engine/cluster/backup-volumes.ts): a k3s
 * cluster with `local` and `hostPath` volumes, a failed PodVolumeBackup, a snapshot not moved, a newer backup that
 * failed.
 */
import * as assert from "node:assert/strict";

import {
    BACKUP_CHECK_CRONJOB,
    BACKUP_CHECK_RECORD,
    BACKUP_CHECK_RULES,
    NO_DATA_MARKER_LABEL,
    NO_DATA_MARKER_PREFIX,
    markersOnlyPolicy,
} from "../components/verify";
import { ProgramRun, RegisteredResource, runProgram } from "../engine";
import {
    BackupVolumeSettings,
    KubeObject,
    SimulatedBackup,
    SimulatedCluster,
    defaultBackup,
    defaultTargetObjects,
    simulatedBackup,
    sourceCluster,
} from "../engine/cluster";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS } from "./fixtures";
import { withRbac } from "./rbac";

/* eslint-disable @typescript-eslint/no-require-imports -- the tasks are CommonJS scripts */
const task = require("../components/tasks/backup-check.js") as {
    MARKER_LABEL: string;
    markerName(prefix: string, claim: string): string;
    backupCheck(api: unknown, args: Record<string, unknown>): Promise<Record<string, unknown>>;
};
const runner = require("../components/tasks/runner.js") as {
    run(
        api: unknown,
        task: string,
        env: Record<string, string>,
        terminationLog: (m: string) => void,
        log: (m: string) => void,
    ): Promise<number>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const CRONJOB = "kubernetes:batch/v1:CronJob";
const DAILY = "prod-eu-1-daily";

type CronJobSpec = {
    schedule: string;
    concurrencyPolicy: string;
    jobTemplate: {
        spec: {
            backoffLimit: number;
            template: {
                spec: {
                    serviceAccountName: string;
                    containers: { command: string[]; env: { name: string; value?: string }[] }[];
                };
            };
        };
    };
};
const checkCronJob = (run: ProgramRun) =>
    run.ofType(CRONJOB).find((c) => (c.inputs.metadata as { name: string }).name === BACKUP_CHECK_CRONJOB);
const taskArgsOf = (cron: RegisteredResource) =>
    JSON.parse(
        String(
            (cron.inputs.spec as CronJobSpec).jobTemplate.spec.template.spec.containers[0].env.find(
                (e) => e.name === "TASK_ARGS",
            )?.value,
        ),
    ) as Record<string, unknown>;

describe("backup check: what the stacks register", () => {
    let prod: ProgramRun;
    before(async () => {
        prod = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { prometheusOperator: "true" } });
    });

    it("an hourly CronJob in Velero's namespace runs the backup-check task over the data Schedules, after them", () => {
        const cron = checkCronJob(prod)!;
        const spec = cron.inputs.spec as CronJobSpec;
        assert.equal(spec.schedule, "30 * * * *");
        assert.equal(spec.concurrencyPolicy, "Forbid");
        assert.equal(spec.jobTemplate.spec.backoffLimit, 0, "a failed run fails its Job: that is what alerts");
        assert.deepEqual(spec.jobTemplate.spec.template.spec.containers[0].command, [
            "node",
            "/gitops-dr/runner.js",
            "backup-check",
        ]);
        const args = taskArgsOf(cron);
        const schedules = prod
            .ofType("kubernetes:velero.io/v1:Schedule")
            .map((s) => s.inputs.metadata as { name: string; labels?: Record<string, string> })
            .filter((m) => m.labels?.["gitops-dr.io/backup-kind"] !== "credentials")
            .map((m) => m.name);
        assert.ok(schedules.includes(DAILY));
        assert.deepEqual(args.schedules, schedules, "every data Schedule, not the credentials one");
        assert.equal(args.snapshotsSuffice, false, "with the data mover, a snapshot left in the cluster is no data");
        for (const s of prod.ofType("kubernetes:velero.io/v1:Schedule")) {
            assert.ok(prod.dependsOn(cron, s), `after ${s.name}`);
        }
        const rule = prod
            .ofType("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
            .find((r) => (r.inputs.metadata as { name: string }).name === BACKUP_CHECK_CRONJOB);
        assert.ok(rule, "with the Prometheus operator, its alerts");
        assert.match(JSON.stringify(rule.inputs.spec), /GitopsDrClaimWithoutData/);
    });

    it("its Role: Velero's namespace only, nothing cluster-wide, no Secret", () => {
        const role = prod
            .ofType("kubernetes:rbac.authorization.k8s.io/v1:Role")
            .find((r) => (r.inputs.metadata as { name: string }).name === BACKUP_CHECK_CRONJOB)!;
        assert.deepEqual(role.inputs.rules, JSON.parse(JSON.stringify(BACKUP_CHECK_RULES)));
        assert.ok(!BACKUP_CHECK_RULES.some((r) => r.resources.includes("secrets")));
        assert.ok(
            !prod
                .ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
                .some((r) => (r.inputs.metadata as { name: string }).name === BACKUP_CHECK_CRONJOB),
        );
    });

    it("an admission policy narrows its deletes to its markers and its patches to them and its record, in place before the first run", () => {
        const guard = markersOnlyPolicy("velero");
        assert.deepEqual(guard.policy.matchConditions, [
            {
                name: "the-backup-check-task",
                expression: `request.userInfo.username == 'system:serviceaccount:velero:${BACKUP_CHECK_CRONJOB}'`,
            },
        ]);
        assert.deepEqual((guard.policy.matchConstraints as { resourceRules: unknown }).resourceRules, [
            { apiGroups: [""], apiVersions: ["v1"], operations: ["DELETE", "UPDATE"], resources: ["configmaps"] },
        ]);
        assert.deepEqual(
            (guard.policy.validations as { expression: string }[]).map((v) => v.expression),
            [
                `oldObject.metadata.name.startsWith('${NO_DATA_MARKER_PREFIX}.') || (request.operation == 'UPDATE' && oldObject.metadata.name == '${BACKUP_CHECK_RECORD}')`,
            ],
        );
        const binding = prod
            .ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding")
            .find((b) => (b.inputs.metadata as { name: string }).name === BACKUP_CHECK_CRONJOB)!;
        assert.ok(prod.dependsOn(checkCronJob(prod)!, binding));
    });

    it('backupCheckSchedule "off" switches it off; a drill has none; recover has one', async () => {
        const off = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { backupCheckSchedule: "off" } });
        assert.equal(checkCronJob(off), undefined);
        const drill = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        assert.equal(checkCronJob(drill), undefined);
        const recover = await runProgram({
            stack: "recover",
            config: RECOVER_CONFIG,
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
        });
        assert.ok(checkCronJob(recover), "a recovered cluster backs up, so it checks its backups");
    });
});

// ---- the task on simulated clusters -------------------------------------------------------------------------

const NOW = Date.parse("2026-11-29T03:30:00Z");
const AT = "2026-11-29T02:00:00Z";
const K3S: BackupVolumeSettings = {
    fileSystemBackupVolumeTypes: ["local", "nfs"],
    snapshotMoveData: true,
    snapshotClassDrivers: ["ebs.csi.aws.com"],
};

/** A claim of `namespace`, its PV with `source` (e.g. `{ local: {...} }`), and, unless `podless`, a running pod. */
function app(namespace: string, storageClass: string, source: KubeObject, podless = false): KubeObject[] {
    return [
        {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: "data", namespace },
            spec: { storageClassName: storageClass, volumeName: `pvc-${namespace}` },
            status: { phase: "Bound" },
        },
        {
            apiVersion: "v1",
            kind: "PersistentVolume",
            metadata: { name: `pvc-${namespace}` },
            spec: {
                ...source,
                persistentVolumeReclaimPolicy: "Delete",
                claimRef: { namespace, name: "data" },
            },
        },
        ...(podless
            ? []
            : [
                  {
                      apiVersion: "v1",
                      kind: "Pod",
                      metadata: { name: `${namespace}-0`, namespace },
                      spec: {
                          containers: [
                              { name: "app", image: "app:1", volumeMounts: [{ name: "data", mountPath: "/d" }] },
                          ],
                          volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
                      },
                      status: { phase: "Running" },
                  },
              ]),
    ];
}

const LOCAL = { local: { path: "/var/lib/rancher/k3s/storage/pvc-notes" } };
const HOST_PATH = { hostPath: { path: "/var/lib/rancher/k3s/storage/pvc-wiki", type: "DirectoryOrCreate" } };
const EBS = { csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-db" } };

/** A k3s homelab: `notes` on a `local` volume, `db` on EBS, and what `extra` adds. */
const homelab = (...extra: KubeObject[][]) => [
    ...app("notes", "local-path", LOCAL),
    ...app("db", "gp3", EBS),
    ...extra.flat(),
];

/** A cluster whose Velero holds `backups`, synced. */
function clusterWith(...backups: SimulatedBackup[]): SimulatedCluster {
    const cluster = new SimulatedCluster(
        { objects: defaultTargetObjects(), backups, credentialsBackups: [] },
        NOW,
        { daily: [], credentials: [] },
        AT,
    );
    cluster.velero.sync("velero");
    return cluster;
}

const ARGS = {
    veleroNamespace: "velero",
    schedules: [DAILY],
    markerPrefix: NO_DATA_MARKER_PREFIX,
    resultConfigMap: BACKUP_CHECK_RECORD,
};
const RULES = { clusterRules: [], namespaceRules: BACKUP_CHECK_RULES };
/** Runs the check as its own service account. */
const check = (cluster: SimulatedCluster, args: Record<string, unknown> = ARGS) =>
    task.backupCheck(withRbac(cluster.store, RULES, "velero"), args);

const markers = (c: SimulatedCluster) =>
    c.store
        .all()
        .filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.[NO_DATA_MARKER_LABEL] === "true")
        .map((o) => String(o.metadata.name))
        .sort();
const record = (c: SimulatedCluster) =>
    JSON.parse(
        String(
            c.store.all().find((o) => o.kind === "ConfigMap" && o.metadata.name === BACKUP_CHECK_RECORD)?.data[
                "last-run.json"
            ],
        ),
    ) as Record<string, unknown>;

describe("the backup-check task (components/tasks/backup-check.js)", () => {
    it("passes when every claim's data is in the vault: moved snapshots (EKS) and file-system backups (k3s local)", async () => {
        const eks = clusterWith(defaultBackup(DAILY, AT));
        const result = await check(eks);
        assert.equal(result.passed, true);
        assert.deepEqual(result.schedules, [
            {
                schedule: DAILY,
                claims: 2,
                withData: 2,
                newerFailed: [],
                running: [],
                backup: "prod-eu-1-daily-20261129020000",
                phase: "Completed",
            },
        ]);
        assert.deepEqual(markers(eks), []);
        const k3s = clusterWith(simulatedBackup(DAILY, AT, homelab(), K3S));
        const info = (await check(k3s)).schedules as { withData: number }[];
        assert.equal(info[0].withData, 2, "notes through its pod, db through the data mover");
        assert.equal(record(k3s).passed, true);
    });

    it("a hostPath claim is skipped by Velero: the run fails naming it, and its marker names it for the alert", async () => {
        const backup = simulatedBackup(DAILY, AT, homelab(app("wiki", "local-path", HOST_PATH)), K3S);
        assert.equal(backup.phase, "Completed", "Velero reports success");
        assert.equal(backup.warnings.length, 2, "with the data mover's two warnings for a non-CSI volume");
        const cluster = clusterWith(backup);
        await assert.rejects(
            check(cluster),
            /1 backed-up claim has no data in the vault: wiki\/data in prod-eu-1-daily-20261129020000 \(skipped: volumeSnapshot: no applicable volumesnapshotter found;\)/,
        );
        assert.deepEqual(markers(cluster), [`${NO_DATA_MARKER_PREFIX}.wiki.data`]);
        const r = record(cluster);
        assert.equal(r.passed, false);
        assert.deepEqual(
            (r.claimsWithoutData as { claim: string }[]).map((c) => c.claim),
            ["wiki/data"],
        );
    });

    it("a PodVolumeBackup that failed: the PartiallyFailed backup is checked and the claim named", async () => {
        const backup = simulatedBackup(DAILY, AT, homelab(), { ...K3S, failedPodVolumes: ["notes/notes-0/data"] });
        assert.equal(backup.phase, "PartiallyFailed");
        await assert.rejects(
            check(clusterWith(backup)),
            /notes\/data in prod-eu-1-daily-20261129020000 \(file-system backup did not complete \(PodVolumeBackup of pod notes\/notes-0 Failed\)\)/,
        );
    });

    it("a file-system backup volume no running pod mounts is skipped: named", async () => {
        const backup = simulatedBackup(DAILY, AT, homelab(app("cold", "local-path", LOCAL, true)), K3S);
        await assert.rejects(
            check(clusterWith(backup)),
            /cold\/data in .* \(skipped: volumeSnapshot: not satisfy the criteria for VolumePolicy or the legacy snapshot way;\)/,
        );
    });

    it("a CSI snapshot not moved into the vault is named: it is lost with the cluster", async () => {
        const backup = simulatedBackup(DAILY, AT, homelab(), { ...K3S, snapshotMoveData: false });
        await assert.rejects(check(clusterWith(backup)), /db\/data in .* \(CSI snapshot not moved into the vault/);
        // volumeDataMode nativeSnapshots: the snapshot is the data the stack chose to keep.
        const chosen = await check(clusterWith(backup), { ...ARGS, snapshotsSuffice: true });
        assert.equal(chosen.passed, true);
    });

    it("a CSI driver without a VolumeSnapshotClass drops the claim from the backup: found through its PV, named", async () => {
        const backup = simulatedBackup(
            DAILY,
            AT,
            homelab(app("nas", "nfs-csi", { csi: { driver: "nfs.csi.k8s.io", volumeHandle: "nas" } })),
            K3S,
        );
        assert.equal(backup.phase, "PartiallyFailed");
        assert.ok(
            !backup.contents.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata.namespace === "nas"),
            "Velero writes no claim whose action failed",
        );
        assert.ok(backup.contents.some((o) => o.kind === "PersistentVolume" && o.metadata.name === "pvc-nas"));
        const cluster = clusterWith(backup);
        await assert.rejects(
            check(cluster),
            /nas\/data in .* \(the backup holds its PersistentVolume pvc-nas but not the claim: an action on the claim failed/,
        );
        assert.deepEqual(markers(cluster), [`${NO_DATA_MARKER_PREFIX}.nas.data`]);
        assert.equal((record(cluster).schedules as { claims: number }[])[0].claims, 3);
    });

    it("a PV whose claim the backup's filters leave out (an excluded namespace) is not taken for a dropped claim", async () => {
        // Velero takes every PV (includeClusterResources); the claims of excluded namespaces stay out.
        const velerosOwn = app("velero", "gp3", { csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-v" } }, true);
        const nas = app("nas", "nfs-csi", { csi: { driver: "nfs.csi.k8s.io", volumeHandle: "nas" } });
        const completed = simulatedBackup(DAILY, AT, homelab(velerosOwn), K3S);
        assert.equal(completed.phase, "Completed");
        assert.ok(completed.contents.some((o) => o.kind === "PersistentVolume" && o.metadata.name === "pvc-velero"));
        assert.equal((await check(clusterWith(completed))).passed, true);
        const partial = simulatedBackup(DAILY, AT, homelab(velerosOwn, nas), K3S);
        const cluster = clusterWith(partial);
        await assert.rejects(check(cluster));
        assert.deepEqual(markers(cluster), [`${NO_DATA_MARKER_PREFIX}.nas.data`], "not velero/data");
    });

    it("a checked backup that ended PartiallyFailed fails the run, naming it and where to read why", async () => {
        // Every claim has its data, but some other item errored: the backup lost something all the same.
        const backup: SimulatedBackup = { ...simulatedBackup(DAILY, AT, homelab(), K3S), phase: "PartiallyFailed" };
        const cluster = clusterWith(backup);
        await assert.rejects(
            check(cluster),
            /Schedule prod-eu-1-daily: its newest backup prod-eu-1-daily-20261129020000 ended PartiallyFailed: some items were not backed up\. Read: velero backup describe prod-eu-1-daily-20261129020000 --details -n velero; velero backup logs prod-eu-1-daily-20261129020000 -n velero/,
        );
        assert.deepEqual(markers(cluster), [], "no claim is without data");
        assert.equal(record(cluster).passed, false);
    });

    it("a newer backup that failed: the newest Completed one is checked, and the failure is reported", async () => {
        const good = simulatedBackup(DAILY, AT, homelab(), K3S);
        const failed: SimulatedBackup = {
            ...defaultBackup(DAILY, "2026-11-30T02:00:00Z"),
            phase: "Failed",
        };
        const cluster = clusterWith(good, failed);
        await assert.rejects(
            check(cluster),
            /Schedule prod-eu-1-daily: prod-eu-1-daily-20261130020000 ended Failed; the newest backup that holds data is prod-eu-1-daily-20261129020000/,
        );
        assert.equal((record(cluster).schedules as { withData: number }[])[0].withData, 2, "the older one was checked");
    });

    it("a newer backup still running is left for a later run, without failing", async () => {
        const running: SimulatedBackup = { ...defaultBackup(DAILY, "2026-11-30T02:00:00Z"), phase: "InProgress" };
        const result = await check(clusterWith(defaultBackup(DAILY, AT), running));
        assert.equal(result.passed, true);
        assert.deepEqual((result.schedules as { running: string[] }[])[0].running, ["prod-eu-1-daily-20261130020000"]);
    });

    it("a schedule with no backup yet passes (the Velero alerts cover a schedule that never succeeds)", async () => {
        const result = await check(clusterWith());
        assert.equal(result.passed, true);
        assert.equal((result.schedules as { backup?: string }[])[0].backup, undefined);
    });

    it("markers follow the newest backup: removed once a claim has data again; other ConfigMaps untouched", async () => {
        const bad = simulatedBackup(DAILY, AT, homelab(app("wiki", "local-path", HOST_PATH)), K3S);
        const cluster = clusterWith(bad);
        cluster.store.put({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "gitops-dr-volume-policy", namespace: "velero" },
            data: { "policy.yaml": "version: v1" },
        });
        await assert.rejects(check(cluster));
        assert.deepEqual(markers(cluster), ["gitops-dr-no-data.wiki.data"]);
        // The claim moved to a `local` volume (README's migration); the next backup has its data.
        const fixed = simulatedBackup(DAILY, "2026-11-30T02:00:00Z", homelab(app("wiki", "local-path", LOCAL)), K3S);
        const next = clusterWith(bad, fixed);
        for (const o of cluster.store.all().filter((o) => o.kind === "ConfigMap")) {
            next.store.put(o);
        }
        assert.equal((await check(next)).passed, true);
        assert.deepEqual(markers(next), []);
        assert.ok(next.store.all().some((o) => o.metadata.name === "gitops-dr-volume-policy"));
    });

    it("a backup the last run passed is not downloaded again; a new backup, or a failed last run, is", async () => {
        const downloads: string[] = [];
        const counting = (c: SimulatedCluster) =>
            withRbac(
                new Proxy(c.store, {
                    get(target, prop, receiver) {
                        if (prop === "create") {
                            return (path: string, body: KubeObject) => {
                                if (path.endsWith("/downloadrequests")) {
                                    downloads.push(String(body.spec?.target?.name));
                                }
                                return target.create(path, body);
                            };
                        }
                        return Reflect.get(target, prop, receiver) as unknown;
                    },
                }),
                RULES,
                "velero",
            );
        const first = simulatedBackup(DAILY, AT, homelab(), K3S);
        const cluster = clusterWith(first);
        assert.equal((await task.backupCheck(counting(cluster), ARGS)).passed, true);
        assert.deepEqual(downloads, [first.name, first.name], "contents and volume infos");
        downloads.length = 0;
        const again = await task.backupCheck(counting(cluster), ARGS);
        assert.equal(again.passed, true);
        assert.deepEqual(downloads, [], "the passed backup is not downloaded again");
        const schedule = (again.schedules as { claims: number; withData: number; passedAt?: string }[])[0];
        assert.deepEqual([schedule.claims, schedule.withData], [2, 2], "its counts carried over");
        assert.equal(schedule.passedAt, new Date(NOW).toISOString());
        // Other settings (nativeSnapshots) check it again.
        await task.backupCheck(counting(cluster), { ...ARGS, snapshotsSuffice: true });
        assert.deepEqual(downloads, [first.name, first.name]);
        downloads.length = 0;
        // A newer backup without a claim's data is downloaded, and fails, every run while it is the newest.
        const bad = simulatedBackup(DAILY, "2026-11-30T02:00:00Z", homelab(app("wiki", "local-path", HOST_PATH)), K3S);
        const next = clusterWith(first, bad);
        for (const o of cluster.store.all().filter((o) => o.kind === "ConfigMap")) {
            next.store.put(o);
        }
        await assert.rejects(task.backupCheck(counting(next), ARGS), /wiki\/data in prod-eu-1-daily-20261130020000/);
        await assert.rejects(task.backupCheck(counting(next), ARGS), /wiki\/data in prod-eu-1-daily-20261130020000/);
        assert.deepEqual(downloads, [bad.name, bad.name, bad.name, bad.name], "a failed record spares nothing");
    });

    it("a marker whose reason changes is patched, not recreated: the alert's age of the claim holds", async () => {
        const bad = simulatedBackup(DAILY, AT, homelab(app("wiki", "local-path", HOST_PATH)), K3S);
        const cluster = clusterWith(bad);
        await assert.rejects(check(cluster));
        const marker = (c: SimulatedCluster) =>
            c.store.all().find((o) => o.kind === "ConfigMap" && o.metadata.name === "gitops-dr-no-data.wiki.data")!;
        const uid = String(marker(cluster).metadata.uid);
        assert.match(String(marker(cluster).data[DAILY]), /^prod-eu-1-daily-20261129020000: skipped/);
        // The next backup of the same claim, still without data, for another reason: its pod is gone.
        const worse = simulatedBackup(
            DAILY,
            "2026-11-30T02:00:00Z",
            homelab(app("wiki", "local-path", LOCAL, true)),
            K3S,
        );
        const next = clusterWith(bad, worse);
        for (const o of cluster.store.all().filter((o) => o.kind === "ConfigMap")) {
            next.store.put(o);
        }
        await assert.rejects(check(next), /wiki\/data in prod-eu-1-daily-20261130020000/);
        assert.equal(String(marker(next).metadata.uid), uid, "the same object");
        assert.match(
            String(marker(next).data[DAILY]),
            /^prod-eu-1-daily-20261130020000: skipped: volumeSnapshot: not satisfy/,
        );
    });

    it("run by the runner as its CronJob's Job: writes its result on its own Job, within its rules", async () => {
        const cluster = clusterWith(defaultBackup(DAILY, AT));
        cluster.store.put({
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "gitops-dr-backup-check-29400000", namespace: "velero" },
        });
        let failure = "";
        const code = await runner.run(
            withRbac(cluster.store, RULES, "velero"),
            "backup-check",
            {
                TASK_ARGS: JSON.stringify(ARGS),
                JOB_NAMESPACE: "velero",
                JOB_NAME: "gitops-dr-backup-check-29400000",
            },
            (m) => (failure = m),
            () => undefined,
        );
        assert.equal(code, 0, failure);
        const job = await cluster.store.get("/apis/batch/v1/namespaces/velero/jobs/gitops-dr-backup-check-29400000");
        assert.equal(JSON.parse(String(job?.metadata.annotations["gitops-dr.io/result"])).passed, true);
    });

    it("a marker's name is a DNS subdomain even for the longest claim names, and parses back to the claim", () => {
        assert.equal(task.markerName(NO_DATA_MARKER_PREFIX, "db/pg.data-0"), "gitops-dr-no-data.db.pg.data-0");
        const long = task.markerName(NO_DATA_MARKER_PREFIX, `${"n".repeat(63)}/${"a".repeat(170)}-${"b".repeat(60)}`);
        assert.ok(long.length <= 253);
        assert.match(long, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
    });

    it("the source cluster of the other tests holds claims on EBS only (the default backups carry data)", () => {
        assert.ok(
            sourceCluster()
                .filter((o) => o.kind === "PersistentVolume")
                .every((v) => v.spec.csi !== undefined),
        );
        assert.equal(task.MARKER_LABEL, NO_DATA_MARKER_LABEL);
    });
});
