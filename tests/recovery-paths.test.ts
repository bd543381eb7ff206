/**
 * The paths a real recovery takes after `pulumi up` has applied (issue #17), on the simulated cluster: what Velero
 * writes back into the Restore, a restore that ends with warnings, a newer backup that failed, claims a failed
 * restore left, a volume a drill must not touch, a StorageClass the restore needs and the cluster lacks. Each case
 * failed or passed silently on the program before the checks around the restore (components/tasks).
 */
import * as assert from "node:assert/strict";

import { ProgramError, ProgramRun, RunOptions, runProgram } from "../engine";
import {
    ClusterScenario,
    KubeObject,
    SimulatedBackup,
    defaultBackup,
    defaultTargetObjects,
    restoreConflicts,
    restoredObject,
    volumeInfosOf,
} from "../engine/cluster";
import { blocks } from "../policies/gate/evaluate";
import { gateRun } from "../scripts/policy";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS, backupNamed, liveClaim } from "./fixtures";

const recover = (cluster?: ClusterScenario, config: RunOptions["config"] = {}) =>
    runProgram({
        stack: "recover",
        config: { ...RECOVER_CONFIG, ...config },
        secrets: STACK_SECRETS,
        stackReferences: STACK_REFERENCES,
        cluster,
        startedAt: Date.parse("2026-11-25T10:00:00Z"),
    });
const drill = (cluster?: ClusterScenario, config: RunOptions["config"] = {}) =>
    runProgram({
        stack: "drill",
        config,
        secrets: STACK_SECRETS,
        stackReferences: STACK_REFERENCES,
        cluster,
        startedAt: Date.parse("2026-11-25T10:00:00Z"),
    });
const failure = async (run: Promise<ProgramRun>): Promise<ProgramError> =>
    run.then(
        () => assert.fail("the run went on"),
        (e: unknown) => e as ProgramError,
    );
const restores = (e: ProgramError) =>
    e.resources.filter(
        (r) =>
            r.type === "kubernetes:velero.io/v1:Restore" &&
            (r.inputs.metadata as { labels?: Record<string, string> }).labels?.["gitops-dr.io/backup-kind"] ===
                undefined,
    );
const rootApps = (e: ProgramError) =>
    e.resources.filter((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Application");
const live = (run: ProgramRun, type: string) =>
    (type === "kubernetes:velero.io/v1:Restore" ? run.restore() : run.one(type)).outputs as KubeObject;

describe("what Velero writes back into the Restore", () => {
    it("the live Restore names its backup and its schedule, and the pack passes the live stack of a drill and a recovery", async () => {
        for (const run of [await drill(), await recover()]) {
            const restore = live(run, "kubernetes:velero.io/v1:Restore");
            assert.match(String(restore.spec.backupName), /^prod-eu-1-daily-\d{14}$/);
            assert.equal(restore.spec.scheduleName, "prod-eu-1-daily");
            assert.ok((restore.spec.excludedResources as string[]).includes("backups.velero.io"));
            assert.deepEqual(restore.metadata.finalizers, ["restores.velero.io/external-resources-finalizer"]);
            assert.equal(restore.status.phase, "Completed");
            const evaluation = await gateRun(run);
            assert.equal(blocks(evaluation), false, JSON.stringify(evaluation.violations, null, 1));
        }
    });
});

describe("a clean recovery ends with zero warnings", () => {
    it("nothing the program or its charts create comes back from the backup", async () => {
        for (const run of [await recover(), await drill()]) {
            assert.equal((run.outputs.restore as { warnings: number }).warnings, 0);
            assert.deepEqual(restoreConflicts(run, defaultBackup("prod-eu-1-daily", "2026-11-25T02:00:00Z")), []);
        }
    });

    it("would show a conflict: a backup that kept Argo CD's namespace brings back the chart's own Secret", async () => {
        const base = defaultBackup("prod-eu-1-daily", "2026-11-25T02:00:00Z");
        const argocdSecret: KubeObject = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "argocd-secret", namespace: "argocd", labels: {} },
            data: {},
        };
        const leaky: SimulatedBackup = { ...base, contents: [...base.contents, argocdSecret] };
        const run = await recover({ backups: [leaky] }, { acceptRestoreWarnings: true });
        assert.deepEqual(restoreConflicts(run, leaky), ["Secret argocd/argocd-secret (the argo-cd chart)"]);
    });
});

describe("a restore that ends Completed with warnings", () => {
    // A Secret that already exists in the new cluster (created by hand before the recovery): Velero keeps it.
    const existing: ClusterScenario = {
        objects: [
            ...defaultTargetObjects(),
            { apiVersion: "v1", kind: "Secret", metadata: { name: "shop-db", namespace: "shop" }, data: {} },
        ],
    };

    it("stops a recovery before Argo CD syncs, naming each warning and the command", async () => {
        const error = await failure(recover(existing));
        assert.match(
            error.message,
            /Restore prod-eu-2-2026-11-25 ended Completed with 1 warning, so something was not restored: shop: could not restore, Secret "shop-db" already exists.*velero restore describe prod-eu-2-2026-11-25 --details -n velero.*acceptRestoreWarnings true/,
        );
        assert.equal(rootApps(error).length, 0, "the root Application is not created");
        assert.equal(error.resources.filter((r) => r.type === "kubernetes:velero.io/v1:Schedule").length, 0);
    });

    it("goes on when accepted, and says so in the outputs", async () => {
        const run = await recover(existing, { acceptRestoreWarnings: true });
        assert.deepEqual((run.outputs.restore as { acceptedWarnings: string[] }).acceptedWarnings, [
            'shop: could not restore, Secret "shop-db" already exists. Warning: the in-cluster version is different than the backed-up version',
        ]);
    });
});

describe("a newer backup that did not complete", () => {
    const backups = [
        backupNamed("prod-eu-1-daily-20261123020000", { startTimestamp: "2026-11-23T02:00:00Z" }),
        backupNamed("prod-eu-1-daily-20261124020000", {
            startTimestamp: "2026-11-24T02:00:00Z",
            phase: "PartiallyFailed",
        }),
        backupNamed("prod-eu-1-daily-20261125020000", { startTimestamp: "2026-11-25T02:00:00Z", phase: "Failed" }),
    ];

    it("stops the run before the Restore, naming the newer backups, their phases and the age of the one Velero would take", async () => {
        const error = await failure(recover({ backups }));
        assert.match(
            error.message,
            /The newest backup of schedule prod-eu-1-daily that Velero would restore, prod-eu-1-daily-20261123020000, is 2 days old; 2 newer backups did not complete: prod-eu-1-daily-20261125020000 \(Failed\), prod-eu-1-daily-20261124020000 \(PartiallyFailed\)\..*acceptOlderBackup true.*No Restore was created\./,
        );
        assert.equal(restores(error).length, 0);
    });

    it("restores the older one when accepted, and reports the decision and the data's age", async () => {
        const run = await recover({ backups }, { acceptOlderBackup: true });
        const outcome = run.outputs.restore as { backupName: string; newerNotCompleted: string[] };
        assert.equal(outcome.backupName, "prod-eu-1-daily-20261123020000");
        assert.deepEqual(outcome.newerNotCompleted, [
            "prod-eu-1-daily-20261125020000 (Failed)",
            "prod-eu-1-daily-20261124020000 (PartiallyFailed)",
        ]);
        assert.equal(run.outputs.restoredBackupStartTimestamp, "2026-11-23T02:00:00Z");
        assert.ok(run.warnings.some((w) => w.includes("acceptOlderBackup")));
    });
});

describe("claims an earlier, failed restore left", () => {
    /** A claim a failed DataDownload kept: Pending, with the selector of a volume Velero would provision. */
    const leftover = liveClaim("shop", "data", {
        metadata: {
            labels: { "velero.io/restore-name": "prod-eu-2-first-try", app: "shop" },
        },
        spec: { selector: { matchLabels: { "velero.io/dynamic-pv-restore": "shop.data.abc" } } },
        status: { phase: "Pending" },
    });
    const earlier = (phase: string): KubeObject => ({
        apiVersion: "velero.io/v1",
        kind: "Restore",
        metadata: { name: "prod-eu-2-first-try", namespace: "velero" },
        spec: { scheduleName: "prod-eu-1-daily" },
        status: { phase },
    });

    it("the retry removes them first, so it restores them instead of skipping them with a warning", async () => {
        const run = await recover({ objects: [...defaultTargetObjects(), leftover, earlier("PartiallyFailed")] });
        const outcome = run.outputs.restore as { warnings: number; removedClaims: string[] };
        assert.deepEqual(outcome.removedClaims, ["shop/data (left Pending by restore prod-eu-2-first-try)"]);
        assert.equal(outcome.warnings, 0);
    });

    it("stops while the earlier restore still runs, naming its claims", async () => {
        const error = await failure(recover({ objects: [...defaultTargetObjects(), leftover, earlier("InProgress")] }));
        assert.match(
            error.message,
            /Claims of an earlier restore of this stack are still being restored: shop\/data \(restore prod-eu-2-first-try is InProgress\)/,
        );
        assert.equal(restores(error).length, 0);
    });

    it("a restored claim that does not bind stops the run: it holds no data", async () => {
        const error = await failure(recover({ restore: { unboundClaims: ["blog/data"] } }));
        assert.match(error.message, /left 1 claim unbound, so without data: blog\/data \(Pending\)/);
        assert.equal(rootApps(error).length, 0);
    });
});

describe("a drill never binds a volume to the source's live storage", () => {
    /** prod's backup with a static NFS volume kept with Retain: neither snapshotted nor moved. */
    function withStaticVolume(): SimulatedBackup {
        const base = defaultBackup("prod-eu-1-daily", "2026-11-25T02:00:00Z");
        const claim: KubeObject = {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: "media", namespace: "shop", labels: {} },
            spec: { accessModes: ["ReadWriteMany"], storageClassName: "", volumeName: "nfs-media" },
        };
        const volume: KubeObject = {
            apiVersion: "v1",
            kind: "PersistentVolume",
            metadata: { name: "nfs-media" },
            spec: {
                persistentVolumeReclaimPolicy: "Retain",
                nfs: { server: "10.0.0.5", path: "/exports/media" },
                claimRef: { namespace: "shop", name: "media" },
            },
        };
        return { ...base, contents: [...base.contents, claim, volume], volumeInfos: volumeInfosOf(base.contents) };
    }

    it("quarantines the volume (no mountable source, reserved for a claim that never exists) and reports its claim", async () => {
        const run = await drill({ backups: [withStaticVolume()] });
        const modifiers = run.one("kubernetes:core/v1:ConfigMap", "gitops-dr-drill-restore-modifiers");
        assert.match(String(Object.values(modifiers.inputs.data as object)[0]), /\^\(nfs-media\)\$/);
        const report = run.outputs.drillReport as { claimsWithoutData: string[] };
        assert.deepEqual(report.claimsWithoutData, ["shop/media"]);
        // What the drill cluster holds: the volume no longer says where prod's data is.
        const pv = restoredObject(run, "PersistentVolume", "nfs-media");
        assert.equal(pv?.spec.nfs, undefined);
        assert.deepEqual(pv?.spec.hostPath, { path: "/nonexistent/gitops-dr-quarantine", type: "Directory" });
        assert.equal(pv?.spec.claimRef.namespace, "gitops-dr-quarantine");
    });

    it("a recovery restores it as it is: the new cluster re-attaches the lost cluster's storage", async () => {
        const run = await recover({ backups: [withStaticVolume()] });
        const pv = restoredObject(run, "PersistentVolume", "nfs-media");
        assert.deepEqual(pv?.spec.nfs, { server: "10.0.0.5", path: "/exports/media" });
    });
});

describe("StorageClasses the restore needs", () => {
    it("a class that does not exist yet stops the run before the Restore, with the mapping that fixes it", async () => {
        const noGp3 = { objects: defaultTargetObjects().filter((o) => o.metadata.name !== "gp3") };
        const error = await failure(recover(noGp3));
        assert.match(
            error.message,
            /The restored claims need StorageClasses this cluster does not have: gp3 \(2 claims, e\.g\. shop\/data\)\..*storageClassMappings.*No Restore was created\./,
        );
        assert.equal(restores(error).length, 0);
        const mapped = await recover(noGp3, { storageClassMappings: ["gp3=gp2"] });
        assert.equal((mapped.outputs.restore as { phase: string }).phase, "Completed");
    });
});

describe("a retry after a partly successful attempt", () => {
    // The first attempt restored shop's claim (now Bound to a new volume) and left blog's Pending.
    const first = (name: string, phase: string, extra: Record<string, unknown> = {}) =>
        liveClaim(name, "data", {
            metadata: {
                labels: { "velero.io/restore-name": "prod-eu-2-first-try", app: name },
                annotations: { "pv.kubernetes.io/bind-completed": "yes" },
            },
            spec: { volumeName: `pvc-first-${name}`, ...extra },
            status: { phase },
        });
    const earlier: KubeObject = {
        apiVersion: "velero.io/v1",
        kind: "Restore",
        metadata: { name: "prod-eu-2-first-try", namespace: "velero" },
        spec: { scheduleName: "prod-eu-1-daily" },
        status: { phase: "PartiallyFailed" },
    };

    it("keeps what the first attempt restored (named in the outputs) and restores what it left", async () => {
        const run = await recover({
            objects: [
                ...defaultTargetObjects(),
                earlier,
                first("shop", "Bound"),
                first("blog", "Pending", { selector: { matchLabels: { "velero.io/dynamic-pv-restore": "x" } } }),
            ],
        });
        const outcome = run.outputs.restore as { removedClaims: string[]; retriedItems: string[]; warnings: number };
        assert.deepEqual(outcome.removedClaims, ["blog/data (left Pending by restore prod-eu-2-first-try)"]);
        // Velero warns about shop's claim (it exists and differs); it is the first attempt's, Bound: expected.
        assert.equal(outcome.warnings, 1);
        assert.deepEqual(outcome.retriedItems, [
            'shop: could not restore, PersistentVolumeClaim "data" already exists. Warning: the in-cluster version is different than the backed-up version',
        ]);
    });
});

describe("the backup the checks looked at is the one Velero restored", () => {
    it("stops when Velero took another (a newer backup synced between the check and the Restore)", async () => {
        const error = await failure(
            runProgram({
                stack: "drill",
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
                live: {
                    "kubernetes:velero.io/v1:Restore": (inputs) => ({
                        spec: { ...(inputs.spec as object), backupName: "prod-eu-1-daily-20991231020000" },
                        status: { phase: "Completed", errors: 0, warnings: 0 },
                    }),
                },
            }),
        );
        assert.match(
            error.message,
            /restored backup prod-eu-1-daily-20991231020000, not prod-eu-1-daily-\d{14}, the one the checks before it looked at/,
        );
        assert.equal(rootApps(error).length, 0);
    });
});

describe("volumes restored as they are, beyond the claims", () => {
    function backupWith(volumes: KubeObject[], claims: KubeObject[] = []): SimulatedBackup {
        const base = defaultBackup("prod-eu-1-daily", "2026-11-25T02:00:00Z");
        return {
            ...base,
            contents: [...base.contents, ...claims, ...volumes],
            volumeInfos: volumeInfosOf(base.contents),
        };
    }
    const nfs = (name: string): KubeObject => ({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name },
        spec: {
            persistentVolumeReclaimPolicy: "Retain",
            nfs: { server: "10.0.0.5", path: `/exports/${name}` },
            mountOptions: ["nfsvers=4.1"],
        },
    });

    it("a drill quarantines a retained volume no backed-up claim uses: every PV of the backup comes back", async () => {
        const run = await drill({ backups: [backupWith([nfs("orphan")])] });
        const report = run.outputs.drillReport as { volumesQuarantined: string[]; claimsWithoutData: string[] };
        assert.deepEqual(report.volumesQuarantined, ["orphan"]);
        assert.deepEqual(report.claimsWithoutData, []);
        const pv = restoredObject(run, "PersistentVolume", "orphan");
        assert.equal(pv?.spec.nfs, undefined);
        // Mount options are refused for a hostPath volume: the quarantine drops them.
        assert.equal(pv?.spec.mountOptions, undefined);
    });

    it("a volume restored as it is needs no StorageClass object: its class may come from git later", async () => {
        const claim: KubeObject = {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: "media", namespace: "shop", labels: {} },
            spec: { accessModes: ["ReadWriteMany"], storageClassName: "nfs-static", volumeName: "nfs-media" },
        };
        const run = await recover({ backups: [backupWith([nfs("nfs-media")], [claim])] });
        assert.equal((run.outputs.restore as { phase: string }).phase, "Completed");
    });
});
