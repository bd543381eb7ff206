/**
 * The protect stack's preflight of its StorageClasses (components/velero/preflight.ts,
 * components/tasks/storage-preflight.js), run by the program against simulated clusters: k3s's local-path creating
 * `local` volumes (file-system backup) or `hostPath` ones (refused), a CSI driver without a VolumeSnapshotClass
 * (refused), EBS with its class (passes); acceptance through gitops-dr:storageClassesWithoutData; the Schedules
 * waiting for it; its permissions, enforced.
 */
import * as assert from "node:assert/strict";

import { STORAGE_PREFLIGHT_JOB, STORAGE_PREFLIGHT_RULES, StoragePreflightResult } from "../components/velero";
import { ProgramError, ProgramRun, RunOptions, runProgram } from "../engine";
import { ClusterStore, KubeObject, SimulatedApiError, defaultTargetObjects } from "../engine/cluster";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS } from "./fixtures";
import { withRbac } from "./rbac";

/* eslint-disable @typescript-eslint/no-require-imports -- the tasks are CommonJS scripts */
const task = require("../components/tasks/storage-preflight.js") as {
    storagePreflight(api: unknown, args: Record<string, unknown>): Promise<StoragePreflightResult>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const JOB = "kubernetes:batch/v1:Job";
const SCHEDULE = "kubernetes:velero.io/v1:Schedule";

const storageClass = (name: string, provisioner: string, annotations: Record<string, string> = {}): KubeObject => ({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name, annotations },
    provisioner,
});
/** k3s's own class: local-path-provisioner, `local` volumes since k3s #9872. */
const K3S_LOCAL_PATH = storageClass("local-path", "rancher.io/local-path", { defaultVolumeType: "local" });
/** A plain local-path-provisioner install: no annotation, so hostPath volumes. */
const PLAIN_LOCAL_PATH = storageClass("local-path", "rancher.io/local-path");
const volume = (name: string, storageClassName: string, source: KubeObject): KubeObject => ({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: { storageClassName, ...source },
});
const NFS_CSI: KubeObject[] = [
    storageClass("nfs-csi", "nfs.csi.k8s.io"),
    { apiVersion: "storage.k8s.io/v1", kind: "CSIDriver", metadata: { name: "nfs.csi.k8s.io" }, spec: {} },
];

const protect = (objects: KubeObject[], config: RunOptions["config"] = {}) =>
    runProgram({ stack: "prod", secrets: STACK_SECRETS, config, cluster: { objects } });
const failure = async (run: Promise<ProgramRun>): Promise<ProgramError> =>
    run.then(
        () => assert.fail("the run went on"),
        (e: unknown) => {
            assert.ok(e instanceof ProgramError, String(e));
            return e;
        },
    );
const resultOf = (run: ProgramRun) =>
    JSON.parse(
        String(
            (
                run.cluster!.store.all().find((o) => o.kind === "Job" && o.metadata.name === STORAGE_PREFLIGHT_JOB)
                    ?.metadata.annotations as Record<string, string>
            )["gitops-dr.io/result"],
        ),
    ) as StoragePreflightResult;

describe("storage preflight: what a protect stack registers", () => {
    it("a Job that only lists storage, and the Schedules wait for it", async () => {
        const prod = await protect(defaultTargetObjects());
        const job = prod
            .ofType(JOB)
            .find((j) => (j.inputs.metadata as { name: string }).name === STORAGE_PREFLIGHT_JOB);
        assert.ok(job);
        for (const s of prod.ofType(SCHEDULE)) {
            assert.ok(prod.dependsOn(s, job), `${s.name} waits for the preflight`);
        }
        const role = prod
            .ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
            .find((r) => (r.inputs.metadata as { name: string }).name === STORAGE_PREFLIGHT_JOB)!;
        assert.deepEqual(role.inputs.rules, JSON.parse(JSON.stringify(STORAGE_PREFLIGHT_RULES)));
        assert.ok(
            STORAGE_PREFLIGHT_RULES.every((r) => r.verbs.every((v) => v === "list")),
            "reads only",
        );
    });

    it("recover and drill run none (they restore; storageClassesWithoutData is refused there)", async () => {
        const recover = await runProgram({
            stack: "recover",
            config: RECOVER_CONFIG,
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
        });
        assert.ok(
            !recover.ofType(JOB).some((j) => (j.inputs.metadata as { name: string }).name === STORAGE_PREFLIGHT_JOB),
        );
        const error = await failure(
            runProgram({
                stack: "recover",
                config: { ...RECOVER_CONFIG, storageClassesWithoutData: ["local-path"] },
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
            }),
        );
        assert.match(error.message, /gitops-dr:storageClassesWithoutData: .* cannot be set in a recover stack/);
    });
});

describe("storage preflight on simulated clusters", () => {
    it("EBS with a VolumeSnapshotClass: its volumes are snapshotted and moved into the vault", async () => {
        const result = resultOf(await protect(defaultTargetObjects()));
        assert.deepEqual(
            result.classes.map((c) => [c.name, c.dataPath]),
            [
                ["gp2", "csi: CSI snapshot moved into the vault"],
                ["gp3", "csi: CSI snapshot moved into the vault"],
            ],
        );
    });

    it("k3s local-path creating local volumes: file-system backup takes them", async () => {
        const result = resultOf(await protect([K3S_LOCAL_PATH]));
        assert.deepEqual(result.classes, [
            {
                name: "local-path",
                provisioner: "rancher.io/local-path",
                volumeTypes: ["local"],
                dataPath: "local: file-system backup",
            },
        ]);
    });

    it("local-path creating hostPath volumes is refused, named with the fix; no Schedule is created", async () => {
        const error = await failure(protect([PLAIN_LOCAL_PATH]));
        assert.match(
            error.message,
            /This StorageClass's volumes would get no data in the backups, although each backup would end Completed: local-path \(provisioner rancher\.io\/local-path: creates hostPath volumes \(its defaultVolumeType annotation is "unset"; local-path-provisioner's default is hostPath\), which Velero cannot back up\)/,
        );
        assert.match(error.message, /kubectl annotate storageclass <name> defaultVolumeType=local/);
        assert.match(error.message, /pulumi config set --path 'gitops-dr:storageClassesWithoutData\[0\]' local-path/);
        assert.deepEqual(
            error.resources.filter((r) => r.type === SCHEDULE),
            [],
        );
    });

    it("a class annotated local whose existing volumes are hostPath is refused: those claims get no data", async () => {
        const error = await failure(
            protect([
                K3S_LOCAL_PATH,
                volume("pvc-old-1", "local-path", { hostPath: { path: "/var/lib/rancher/k3s/storage/a" } }),
                volume("pvc-old-2", "local-path", { hostPath: { path: "/var/lib/rancher/k3s/storage/b" } }),
                volume("pvc-new", "local-path", { local: { path: "/var/lib/rancher/k3s/storage/c" } }),
            ]),
        );
        assert.match(
            error.message,
            /local-path \(provisioner rancher\.io\/local-path: 2 existing hostPath volumes: migrate them \(README "Homelab \(k3s\) storage"\)/,
            "the class already creates local volumes: annotating it again fixes nothing",
        );
    });

    it("local-path ignores a defaultVolumeType parameter: only the annotation makes local volumes", async () => {
        const byParameter = { ...PLAIN_LOCAL_PATH, parameters: { defaultVolumeType: "local" } };
        const error = await failure(protect([byParameter]));
        assert.match(error.message, /local-path \(provisioner rancher\.io\/local-path: creates hostPath volumes/);
    });

    it("static PVs of no class or of a class with no StorageClass object are judged by their volumes", async () => {
        const error = await failure(
            protect([
                K3S_LOCAL_PATH,
                volume("pv-media", "manual", { hostPath: { path: "/srv/media" } }),
                volume("pv-photos", "manual", { hostPath: { path: "/srv/photos" } }),
                volume("pv-static", "", { hostPath: { path: "/srv/static" } }),
                volume("pv-disk", "", { local: { path: "/mnt/disk" } }),
            ]),
        );
        assert.match(
            error.message,
            /These StorageClasses' volumes would get no data in the backups, although each backup would end Completed: <no class> \(provisioner none: no StorageClass object: 1 hostPath volume of no StorageClass object, which Velero cannot back up\); manual \(provisioner none: no StorageClass object: 2 hostPath volumes of no StorageClass object/,
        );
        assert.match(error.message, /storageClassesWithoutData\[0\]' '<no class>'/);
        const accepted = await protect(
            [K3S_LOCAL_PATH, volume("pv-static", "", { hostPath: { path: "/srv/static" } })],
            { storageClassesWithoutData: ["<no class>"] },
        );
        assert.deepEqual(resultOf(accepted).acknowledged, ["<no class>"]);
        const local = resultOf(await protect([K3S_LOCAL_PATH, volume("pv-disk", "", { local: { path: "/mnt/d" } })]));
        assert.equal(local.classes.find((c) => c.name === "<no class>")?.dataPath, "local: file-system backup");
    });

    it("accepted in storageClassesWithoutData: reported, not refused", async () => {
        const run = await protect([PLAIN_LOCAL_PATH], { storageClassesWithoutData: ["local-path"] });
        assert.deepEqual(resultOf(run).acknowledged, ["local-path"]);
        assert.ok(run.ofType(SCHEDULE).length > 0);
    });

    it("a CSI driver without a VolumeSnapshotClass is refused; the class the program creates for it passes", async () => {
        const error = await failure(protect([...defaultTargetObjects(), ...NFS_CSI]));
        assert.match(
            error.message,
            /nfs-csi \(provisioner nfs\.csi\.k8s\.io: CSI driver nfs\.csi\.k8s\.io has no VolumeSnapshotClass: Velero cannot snapshot its volumes\)/,
        );
        assert.doesNotMatch(error.message, /gp3/, "EBS has its class");
        const fixed = await protect([...defaultTargetObjects(), ...NFS_CSI], {
            volumeSnapshotClassDrivers: ["nfs.csi.k8s.io"],
        });
        assert.equal(resultOf(fixed).classes.find((c) => c.name === "nfs-csi")?.problem, undefined);
        const byFiles = await protect([...defaultTargetObjects(), ...NFS_CSI], {
            fileSystemBackupVolumeTypes: ["local", "nfs", "csi"],
        });
        assert.equal(resultOf(byFiles).classes.find((c) => c.name === "nfs-csi")?.dataPath, "csi: file-system backup");
    });

    it("a driver's VolumeSnapshotClass must be one Velero selects: labelled, default, or its only one", async () => {
        const snapshotClass = (name: string, meta: KubeObject = {}): KubeObject => ({
            apiVersion: "snapshot.storage.k8s.io/v1",
            kind: "VolumeSnapshotClass",
            metadata: { name, ...meta },
            driver: "nfs.csi.k8s.io",
            deletionPolicy: "Delete",
        });
        const only = resultOf(await protect([...defaultTargetObjects(), ...NFS_CSI, snapshotClass("nfs-snap")]));
        assert.equal(only.classes.find((c) => c.name === "nfs-csi")?.problem, undefined, "the only class is selected");
        const two = [snapshotClass("nfs-fast"), snapshotClass("nfs-slow")];
        const error = await failure(protect([...defaultTargetObjects(), ...NFS_CSI, ...two]));
        assert.match(
            error.message,
            /nfs-csi \(provisioner nfs\.csi\.k8s\.io: CSI driver nfs\.csi\.k8s\.io has 2 VolumeSnapshotClasses \(nfs-fast, nfs-slow\) and none is labelled velero\.io\/csi-volumesnapshot-class or annotated snapshot\.storage\.kubernetes\.io\/is-default-class: Velero selects none and fails every claim of it; label one: `kubectl label volumesnapshotclass nfs-fast velero\.io\/csi-volumesnapshot-class=true`\)/,
        );
        const labelled = [
            snapshotClass("nfs-fast", { labels: { "velero.io/csi-volumesnapshot-class": "true" } }),
            two[1],
        ];
        const byLabel = resultOf(await protect([...defaultTargetObjects(), ...NFS_CSI, ...labelled]));
        assert.equal(byLabel.classes.find((c) => c.name === "nfs-csi")?.problem, undefined);
        const annotated = [
            two[0],
            snapshotClass("nfs-slow", { annotations: { "snapshot.storage.kubernetes.io/is-default-class": "false" } }),
        ];
        const byDefault = resultOf(await protect([...defaultTargetObjects(), ...NFS_CSI, ...annotated]));
        assert.equal(
            byDefault.classes.find((c) => c.name === "nfs-csi")?.problem,
            undefined,
            "Velero checks the annotation's presence, not its value",
        );
    });

    it("file-system backup off: k3s's local volumes have no data path, refused", async () => {
        const error = await failure(protect([K3S_LOCAL_PATH], { fileSystemBackupVolumeTypes: [] }));
        assert.match(
            error.message,
            /local-path \(provisioner rancher\.io\/local-path: creates local volumes, which are neither CSI \(no snapshot\) nor in gitops-dr:fileSystemBackupVolumeTypes\)/,
        );
    });

    it("a class of another provisioner with no volume yet is undetermined, not refused", async () => {
        const result = resultOf(await protect([storageClass("manual", "kubernetes.io/no-provisioner")]));
        assert.deepEqual(result.undetermined, ["manual"]);
    });
});

describe("the storage-preflight task as its own service account", () => {
    const ARGS = {
        fileSystemBackupVolumeTypes: ["local", "nfs"],
        volumeDataMode: "dataMover",
        snapshotClassDrivers: [],
        acknowledged: [],
    };
    const RULES = { clusterRules: STORAGE_PREFLIGHT_RULES, namespaceRules: [] };

    it("needs no more than its rules", async () => {
        const store = new ClusterStore(0);
        [...defaultTargetObjects(), K3S_LOCAL_PATH].forEach((o) => store.put(o));
        const result = await task.storagePreflight(withRbac(store, RULES, "velero"), ARGS);
        assert.equal(result.classes.length, 3);
    });

    it("without the snapshot CRDs (404), a CSI class is refused rather than the run failing", async () => {
        const store = new ClusterStore(0);
        defaultTargetObjects()
            .filter((o) => o.kind !== "VolumeSnapshotClass")
            .forEach((o) => store.put(o));
        const api = new Proxy(store, {
            get(target, prop, receiver) {
                if (prop === "list") {
                    return (path: string) =>
                        path.includes("volumesnapshotclasses")
                            ? Promise.reject(
                                  new SimulatedApiError(404, "the server could not find the requested resource"),
                              )
                            : target.list(path);
                }
                return Reflect.get(target, prop, receiver) as unknown;
            },
        });
        await assert.rejects(
            task.storagePreflight(withRbac(api, RULES, "velero"), ARGS),
            /gp2 \(provisioner ebs\.csi\.aws\.com: CSI driver ebs\.csi\.aws\.com has no VolumeSnapshotClass/,
        );
    });
});
