/**
 * The weekly backup verification of a protect stack (components/verify, components/tasks/verify.js): the CronJob the
 * program registers and its permissions, then the task on the simulated cluster: the restore into scratch
 * namespaces, the rotation, the bound on claims, and the cleanup whatever happened.
 */
import * as assert from "node:assert/strict";

import type { SimulatedBackup } from "../engine/cluster/velero";
import { schedulePeriodSeconds } from "../components/config/verify";
import {
    SCRATCH_LABEL,
    SCRATCH_PREFIX,
    VERIFY_CRONJOB,
    VERIFY_NOT_VERIFIABLE,
    VERIFY_RECORD,
    VERIFY_RESTORE_PREFIX,
    VERIFY_RULES,
    scratchOnlyPolicy,
} from "../components/verify";
import { verificationRestoreSpec } from "../components/restore";
import { VERIFY_SCRATCH_NAMESPACES } from "../components/velero/names";
import { VERIFY_SCRATCH_NAMESPACES as POLICY_SCRATCH_NAMESPACES } from "../policies/lib/velero";
import { ProgramRun, RegisteredResource, runProgram } from "../engine";
import {
    ClusterStore,
    RestoreBehaviour,
    SimulatedCluster,
    defaultBackup,
    defaultTargetObjects,
} from "../engine/cluster";
import { STACK_REFERENCES, STACK_SECRETS } from "./fixtures";
import { withRbac } from "./rbac";

/* eslint-disable @typescript-eslint/no-require-imports -- the tasks are CommonJS scripts */
const task = require("../components/tasks/verify.js") as {
    SCRATCH_LABEL: string;
    SCRATCH_PREFIX: string;
    rotation(all: string[], perRun: number, step: number): string[];
    verify(api: ClusterStore, args: Record<string, unknown>): Promise<Record<string, unknown>>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const CRONJOB = "kubernetes:batch/v1:CronJob";
const DAILY = "prod-eu-1-daily";
const WEEK = 7 * 86400;

type CronJobSpec = {
    schedule: string;
    timeZone: string;
    concurrencyPolicy: string;
    jobTemplate: {
        spec: {
            backoffLimit: number;
            template: {
                spec: {
                    serviceAccountName: string;
                    containers: { command: string[]; env: { name: string; value?: string; valueFrom?: unknown }[] }[];
                };
            };
        };
    };
};
/** The verification's CronJob (a stack has the backup check's too). */
const verifyCronJob = (run: ProgramRun) =>
    run.ofType(CRONJOB).find((c) => (c.inputs.metadata as { name: string }).name === VERIFY_CRONJOB)!;
const specOf = (r: RegisteredResource) => r.inputs.spec as CronJobSpec;
const envOf = (r: RegisteredResource, name: string) =>
    specOf(r).jobTemplate.spec.template.spec.containers[0].env.find((e) => e.name === name);

describe("backup verification: what a protect stack registers", () => {
    let prod: ProgramRun;
    before(async () => {
        prod = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
    });

    it("a weekly CronJob in Velero's namespace runs the verify task, one run at a time, after the Schedules", () => {
        const cron = verifyCronJob(prod);
        const spec = specOf(cron);
        assert.equal((cron.inputs.metadata as { namespace: string }).namespace, "velero");
        assert.equal(spec.schedule, "0 4 * * 0");
        assert.equal(spec.timeZone, "Etc/UTC");
        assert.equal(spec.concurrencyPolicy, "Forbid");
        assert.equal(spec.jobTemplate.spec.backoffLimit, 0, "a failed run fails its Job: that is what alerts");
        assert.deepEqual(spec.jobTemplate.spec.template.spec.containers[0].command, [
            "node",
            "/gitops-dr/runner.js",
            "verify",
        ]);
        assert.deepEqual(envOf(cron, "JOB_NAME")?.valueFrom, {
            fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" },
        });
        for (const s of prod.ofType("kubernetes:velero.io/v1:Schedule")) {
            assert.ok(prod.dependsOn(cron, s), `after ${s.name}`);
        }
        const binding = prod
            .ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding")
            .find((b) => (b.inputs.metadata as { name: string }).name === VERIFY_CRONJOB)!;
        assert.ok(prod.dependsOn(cron, binding), "the scratch-only policy holds before the first run");
    });

    it("restores the daily schedule's newest backup, into scratch namespaces only, without PersistentVolumes", () => {
        const args = JSON.parse(String(envOf(verifyCronJob(prod), "TASK_ARGS")?.value)) as Record<string, unknown>;
        assert.equal(args.scheduleName, DAILY);
        assert.equal(args.periodSeconds, WEEK);
        assert.deepEqual(args.excludedNamespaces, [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "velero",
            "argocd",
        ]);
        assert.deepEqual(args.spec, verificationRestoreSpec(180));
        const deadline = specOf(verifyCronJob(prod)).jobTemplate.spec as unknown as { activeDeadlineSeconds: number };
        assert.ok(
            (args.restoreTimeoutMinutes as number) * 60 + 15 * 60 <= deadline.activeDeadlineSeconds,
            "the run gives up on the restore early enough to clean up before the Job's deadline",
        );
        assert.ok(!(args.spec as { includedResources: string[] }).includedResources.includes("persistentvolumes"));
        assert.equal((args.spec as { existingResourcePolicy: string }).existingResourcePolicy, "none");
    });

    it("its permissions: no Secret, no write outside Velero's namespace but scratch namespaces and their claims", () => {
        const rules = [...VERIFY_RULES.clusterRules, ...VERIFY_RULES.namespaceRules];
        assert.ok(!rules.some((r) => r.resources.includes("secrets")));
        assert.deepEqual(
            VERIFY_RULES.clusterRules.filter((r) => r.verbs.some((v) => v !== "get" && v !== "list")),
            [
                { apiGroups: [""], resources: ["namespaces"], verbs: ["create", "list", "delete"] },
                { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "delete"] },
            ],
        );
        const guard = scratchOnlyPolicy("velero");
        assert.deepEqual(guard.policy.matchConditions, [
            {
                name: "the-verify-task",
                expression: `request.userInfo.username == 'system:serviceaccount:velero:${VERIFY_CRONJOB}'`,
            },
        ]);
        assert.match(JSON.stringify(guard.policy.validations), new RegExp(`'${SCRATCH_LABEL}' in oldObject`));
        assert.match(JSON.stringify(guard.policy.validations), new RegExp(`startsWith\\('${SCRATCH_PREFIX}'\\)`));
        assert.equal(task.SCRATCH_LABEL, SCRATCH_LABEL);
        assert.equal(task.SCRATCH_PREFIX, SCRATCH_PREFIX);
        // What the Schedules exclude and the policy pack requires is exactly every scratch name.
        assert.equal(VERIFY_SCRATCH_NAMESPACES, `${SCRATCH_PREFIX}*`);
        assert.equal(POLICY_SCRATCH_NAMESPACES, VERIFY_SCRATCH_NAMESPACES);
    });

    it("every Schedule of the stack excludes the scratch namespaces", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        const schedules = run.ofType("kubernetes:velero.io/v1:Schedule");
        const names = schedules.map((s) => (s.inputs.metadata as { name: string }).name);
        assert.ok(
            names.some((n) => n.endsWith("-daily")) && names.some((n) => n.endsWith("-credentials")),
            names.join(),
        );
        for (const s of schedules) {
            const template = (s.inputs.spec as { template: { excludedNamespaces?: string[] } }).template;
            assert.ok(template.excludedNamespaces?.includes(VERIFY_SCRATCH_NAMESPACES), s.name);
        }
    });

    it('verifySchedule "off" switches it off; recover and drill have none', async () => {
        const off = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { verifySchedule: "off" } });
        assert.equal(verifyCronJob(off), undefined);
        const drill = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        assert.equal(verifyCronJob(drill), undefined);
    });

    it("the period is the schedule's longest gap", () => {
        assert.equal(schedulePeriodSeconds("0 4 * * 0"), WEEK);
        assert.equal(schedulePeriodSeconds("0 4 * * 1,3"), 5 * 86400);
        assert.equal(schedulePeriodSeconds("0 4 1 * *"), 31 * 86400);
    });
});

// ---- the task on the simulated cluster ---------------------------------------------------------------------

const NOW = Date.parse("2026-11-29T04:00:00Z");

/** A protected cluster: its live apps, its synced daily backup of them, Velero answering. */
function protectedCluster(
    behaviour: RestoreBehaviour = {},
    edit: (b: SimulatedBackup) => SimulatedBackup = (b) => b,
): SimulatedCluster {
    const backup = edit(defaultBackup(DAILY, "2026-11-29T02:00:00Z"));
    const live = [
        ...defaultTargetObjects(),
        ...["shop", "blog"].map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })),
        ...backup.contents.filter((o) => o.kind === "PersistentVolumeClaim"),
    ];
    const cluster = new SimulatedCluster(
        { objects: live, backups: [backup], restore: behaviour },
        NOW,
        {
            daily: [DAILY],
            credentials: [],
        },
        "2026-11-29T02:00:00Z",
    );
    cluster.velero.sync("velero");
    return cluster;
}

const ARGS = {
    veleroNamespace: "velero",
    scheduleName: DAILY,
    restorePrefix: VERIFY_RESTORE_PREFIX,
    spec: verificationRestoreSpec(180),
    namespacesPerRun: 3,
    maxClaims: 10,
    periodSeconds: WEEK,
    excludedNamespaces: ["kube-system", "velero", "argocd"],
    restoreTimeoutMinutes: 180,
    keepRestores: 2,
    resultConfigMap: VERIFY_RECORD,
    notVerifiableConfigMap: VERIFY_NOT_VERIFIABLE,
};

const namespaces = (c: SimulatedCluster) =>
    c.store
        .all()
        .filter((o) => o.kind === "Namespace")
        .map((o) => String(o.metadata.name))
        .sort();
const record = async (c: SimulatedCluster) =>
    JSON.parse(
        String((await c.store.get(`/api/v1/namespaces/velero/configmaps/${VERIFY_RECORD}`))?.data["last-run.json"]),
    ) as Record<string, unknown>;
const liveClaims = (c: SimulatedCluster) =>
    c.store
        .all()
        .filter((o) => o.kind === "PersistentVolumeClaim" && ["shop", "blog"].includes(String(o.metadata.namespace)))
        .map((o) => JSON.stringify(o));

describe("the verify task (components/tasks/verify.js)", () => {
    it("restores the newest backup into scratch namespaces, checks every claim, then removes them", async () => {
        const cluster = protectedCluster();
        const before = liveClaims(cluster);
        // As its service account: every request it makes is one its permissions allow.
        const result = await task.verify(withRbac(cluster.store, VERIFY_RULES, "velero"), ARGS);
        assert.equal(result.passed, true);
        assert.deepEqual(result.namespaces, ["blog", "shop"]);
        assert.equal(result.claims, 2, "one claim per app, each Bound");
        const restore = cluster.store.all().find((o) => o.kind === "Restore")!;
        assert.deepEqual(restore.spec.namespaceMapping, { blog: "gdr-verify-blog", shop: "gdr-verify-shop" });
        assert.equal(restore.status.phase, "Completed");
        assert.deepEqual(namespaces(cluster), ["blog", "shop"], "the scratch namespaces are gone");
        assert.deepEqual(liveClaims(cluster), before, "the live claims are untouched");
        assert.equal((await record(cluster)).passed, true);
    });

    it("keeps a ConfigMap while namespaces are not verifiable, since the first run that found them, and removes it after", async () => {
        const fsbShop = (b: SimulatedBackup): SimulatedBackup => ({
            ...b,
            volumeInfos: b.volumeInfos.map((v) =>
                v.pvcNamespace === "shop" ? { ...v, backupMethod: "NativeSnapshot", snapshotDataMoved: false } : v,
            ),
        });
        const cluster = protectedCluster({}, fsbShop);
        const marker = `/api/v1/namespaces/velero/configmaps/${VERIFY_NOT_VERIFIABLE}`;
        const first = await task.verify(withRbac(cluster.store, VERIFY_RULES, "velero"), ARGS);
        const since = "2026-11-29T04:00:00.000Z";
        assert.deepEqual(first.notVerifiableSince, { shop: since });
        const stored = JSON.parse(String((await cluster.store.get(marker))!.data["namespaces.json"])) as Record<
            string,
            { since: string; reason: string }
        >;
        assert.deepEqual(Object.keys(stored), ["shop"]);
        assert.equal(stored.shop.since, since);
        assert.match(stored.shop.reason, /^native snapshot/);
        cluster.store.advanceTo(NOW + WEEK * 1000);
        const second = await task.verify(withRbac(cluster.store, VERIFY_RULES, "velero"), ARGS);
        assert.deepEqual(second.notVerifiableSince, { shop: since }, "a week later: still since the first run");
        assert.deepEqual((await record(cluster)).notVerifiableSince, { shop: since });

        // A cluster whose every namespace is provable again: the run removes it, and the alert goes quiet.
        const healthy = protectedCluster();
        await healthy.store.create("/api/v1/namespaces/velero/configmaps", {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: VERIFY_NOT_VERIFIABLE, namespace: "velero" },
            data: { "namespaces.json": JSON.stringify({ shop: { since, reason: "x" } }) },
        });
        const result = await task.verify(withRbac(healthy.store, VERIFY_RULES, "velero"), ARGS);
        assert.deepEqual(result.notVerifiable, []);
        assert.equal(await healthy.store.get(marker), undefined);
    });

    it("leaves out a namespace whose volumes were saved by file-system backup, naming it: only a drill proves them", async () => {
        // shop's claim was backed up through its pod (a k3s local-path volume): a scratch restore takes no pods,
        // so its claim would come back empty (or Pending) and prove nothing.
        const cluster = protectedCluster({}, (b) => ({
            ...b,
            contents: [
                ...b.contents,
                {
                    apiVersion: "v1",
                    kind: "Pod",
                    metadata: { name: "shop-0", namespace: "shop" },
                    spec: {
                        containers: [{ name: "app", image: "shop:1" }],
                        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
                    },
                    status: { phase: "Running" },
                },
            ],
            volumeInfos: b.volumeInfos.map((v) =>
                v.pvcNamespace === "shop"
                    ? {
                          ...v,
                          backupMethod: "PodVolumeBackup",
                          snapshotDataMoved: false,
                          pvbInfo: {
                              podName: "shop-0",
                              podNamespace: "shop",
                              volumeName: "data",
                              uploaderType: "kopia",
                          },
                      }
                    : v,
            ),
        }));
        const result = await task.verify(cluster.store, ARGS);
        assert.equal(result.passed, true);
        assert.deepEqual(result.namespaces, ["blog"]);
        assert.deepEqual((await record(cluster)).notVerifiable, ["shop"]);
        assert.match(
            ((await record(cluster)).notVerifiableReasons as Record<string, string>).shop,
            /^file-system backup data \(pod shop-0\)/,
        );
    });

    for (const [mode, info, reason] of [
        [
            "volumeDataMode nativeSnapshots",
            { backupMethod: "NativeSnapshot", snapshotDataMoved: false },
            /^native snapshot \(claim data\): it comes back only as a new volume of its PersistentVolume/,
        ],
        [
            "a static volume kept as it is (Retain, no snapshot)",
            { backupMethod: "", snapshotDataMoved: false, retain: true },
            /^volume kept as it is outside the vault \(claim data\)/,
        ],
    ] as const) {
        it(`${mode}: the namespace is named not verifiable with its reason, not failed every week, not passed silently`, async () => {
            const nativeShop = (b: SimulatedBackup): SimulatedBackup => ({
                ...b,
                contents: b.contents.map((o) =>
                    "retain" in info && o.kind === "PersistentVolume" && o.spec?.claimRef?.namespace === "shop"
                        ? { ...o, spec: { ...o.spec, persistentVolumeReclaimPolicy: "Retain" } }
                        : o,
                ),
                volumeInfos: b.volumeInfos.map((v) =>
                    v.pvcNamespace === "shop"
                        ? { ...v, backupMethod: info.backupMethod, snapshotDataMoved: info.snapshotDataMoved }
                        : v,
                ),
            });
            // Restored into a scratch namespace anyway, the claim would wait for its old volume, every week.
            const plain = protectedCluster({}, nativeShop);
            const backupName = plain.store.all().find((o) => o.kind === "Backup")!.metadata.name as string;
            plain.velero.restore(
                {
                    apiVersion: "velero.io/v1",
                    kind: "Restore",
                    metadata: { name: "by-hand", namespace: "velero" },
                    spec: {
                        ...verificationRestoreSpec(180),
                        backupName,
                        includedNamespaces: ["shop"],
                        namespaceMapping: { shop: "gdr-verify-shop" },
                    },
                },
                { start: "2026-11-29T04:00:00Z", end: "2026-11-29T04:05:00Z" },
            );
            const scratchClaim = plain.store
                .all()
                .find((o) => o.kind === "PersistentVolumeClaim" && o.metadata.namespace === "gdr-verify-shop")!;
            assert.equal(scratchClaim.status.phase, "Pending");
            const cluster = protectedCluster({}, nativeShop);
            const result = await task.verify(cluster.store, ARGS);
            assert.equal(result.passed, true);
            assert.deepEqual(result.namespaces, ["blog"], "the other namespaces are still proven");
            const last = await record(cluster);
            assert.deepEqual(last.notVerifiable, ["shop"]);
            assert.match((last.notVerifiableReasons as Record<string, string>).shop, reason);
            assert.deepEqual(namespaces(cluster), ["blog", "shop"], "the scratch namespaces are gone");
        });
    }

    it("a claim that does not bind fails the run, names it, and still removes the scratch namespaces", async () => {
        const cluster = protectedCluster({ unboundClaims: ["gdr-verify-shop/data"] });
        await assert.rejects(
            task.verify(cluster.store, ARGS),
            /left 1 claim unbound, so without data: gdr-verify-shop\/data/,
        );
        assert.deepEqual(namespaces(cluster), ["blog", "shop"]);
        const r = await record(cluster);
        assert.equal(r.passed, false);
        assert.match(String(r.failure), /gdr-verify-shop\/data \(Pending\)/);
    });

    it("a restore that did not complete fails at once with its phase, and cleans up", async () => {
        const cluster = protectedCluster({ phase: "PartiallyFailed" });
        await assert.rejects(
            task.verify(cluster.store, ARGS),
            /ended PartiallyFailed: the backup could not be restored/,
        );
        assert.deepEqual(namespaces(cluster), ["blog", "shop"]);
        assert.equal((await record(cluster)).passed, false);
    });

    it("never takes over a live namespace that has a scratch name", async () => {
        const cluster = protectedCluster();
        cluster.store.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "gdr-verify-shop" } });
        await assert.rejects(task.verify(cluster.store, ARGS), /already exists/);
        assert.ok(namespaces(cluster).includes("gdr-verify-shop"), "an unlabelled namespace is never deleted");
        assert.ok(!cluster.store.all().some((o) => o.kind === "Restore"), "nothing was restored");
    });

    it("removes what a killed run left before it starts", async () => {
        const cluster = protectedCluster();
        cluster.store.put({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: "gdr-verify-old", labels: { [SCRATCH_LABEL]: "gitops-dr-verify-20261122040000" } },
        });
        await task.verify(cluster.store, ARGS);
        assert.ok(!namespaces(cluster).includes("gdr-verify-old"));
    });

    it("rotates: one namespace per run proves every namespace within two periods", async () => {
        const seen: unknown[] = [];
        for (const week of [0, 1]) {
            const cluster = protectedCluster();
            cluster.store.advanceTo(NOW + week * WEEK * 1000);
            seen.push(...((await task.verify(cluster.store, { ...ARGS, namespacesPerRun: 1 })).namespaces as string[]));
        }
        assert.deepEqual([...seen].sort(), ["blog", "shop"]);
        assert.deepEqual(task.rotation(["a", "b", "c"], 2, 1), ["c", "a"]);
    });

    it("stops adding namespaces at maxClaims, and refuses a namespace that alone exceeds it", async () => {
        const one = await task.verify(protectedCluster().store, { ...ARGS, maxClaims: 1 });
        assert.equal((one.namespaces as string[]).length, 1);
        assert.deepEqual(one.notThisRun, ["shop"]);
        await assert.rejects(
            task.verify(protectedCluster().store, { ...ARGS, maxClaims: 0 }),
            /Namespace blog holds 1 claims, more than gitops-dr:verifyMaxClaims \(0\)/,
        );
    });

    it("keeps only the newest verification Restores", async () => {
        const cluster = protectedCluster();
        for (const day of [0, 1, 2]) {
            cluster.store.advanceTo(NOW + day * 86400 * 1000);
            await task.verify(cluster.store, { ...ARGS, keepRestores: 1 });
        }
        assert.deepEqual(
            cluster.store
                .all()
                .filter((o) => o.kind === "Restore")
                .map((o) => String(o.metadata.name)),
            ["gitops-dr-verify-20261201040000"],
        );
    });
});
