// @ts-check
/**
 * The protect stack's preflight (components/velero/preflight.ts): names each StorageClass of the cluster whose
 * volumes would get no data in the backups, before the Schedules exist. Velero backs such a volume's claim up and
 * ends the backup `Completed` all the same (the backup check, backup-check.js, sees it only afterwards):
 *
 * - a CSI driver without a VolumeSnapshotClass: the CSI PVC action finds no class and fails the item (velero v1.18.1
 *   `pkg/util/csi/volume_snapshot.go` `GetVolumeSnapshotClass`), unless file-system backup takes `csi` volumes;
 * - a class creating hostPath volumes, which neither a snapshot nor file-system backup can take (`pkg/podvolume/
 *   backupper.go` `isHostPathVolume`). local-path-provisioner creates hostPath volumes unless the class's annotation
 *   `defaultVolumeType` (or a claim's `volumeType`) says `local` (rancher/local-path-provisioner `provisioner.go`
 *   `Provision`, `createPersistentVolumeSource`; the default is `hostPath`);
 * - any other volume type that no rule sends to file-system backup and that is not CSI (local, nfs with
 *   `fileSystemBackupVolumeTypes` [] ...): the catch-all snapshot rule finds no volume snapshotter for it.
 *
 * What a class creates is read from its provisioner (a CSIDriver object names a CSI driver; local-path-provisioner's
 * annotation) and from the volumes it already made. A class of another provisioner that has made no volume yet
 * cannot be judged: it is listed as undetermined, and the backup check covers it once it has volumes. Classes listed
 * in `acknowledged` (gitops-dr:storageClassesWithoutData) are reported, not refused.
 */
"use strict";

const { TaskFailure } = require("./pre-restore");

/** local-path-provisioner's default provisioner name (rancher/local-path-provisioner `main.go`). */
const LOCAL_PATH_PROVISIONER = "rancher.io/local-path";
/** PV source fields, by the name Velero's volume policy gives their type (`volume_types_conditions.go`). */
const VOLUME_SOURCES = [
    "csi",
    "local",
    "hostPath",
    "nfs",
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "fc",
    "flexVolume",
    "gcePersistentDisk",
    "glusterfs",
    "iscsi",
    "portworxVolume",
    "rbd",
    "vsphereVolume",
];

/**
 * @typedef {import("./kube").KubeApi} KubeApi
 * @typedef {import("./kube").KubeObject} KubeObject
 * @typedef {object} StoragePreflightArgs
 * @property {string[]} fileSystemBackupVolumeTypes
 * @property {"dataMover" | "nativeSnapshots"} volumeDataMode
 * @property {string[]} snapshotClassDrivers Drivers the program creates a VolumeSnapshotClass for.
 * @property {string[]} acknowledged Classes accepted without data (gitops-dr:storageClassesWithoutData).
 *
 * @typedef {object} ClassVerdict
 * @property {string} name
 * @property {string} provisioner
 * @property {string[]} volumeTypes What it creates (from its provisioner and its volumes), `unknown` when unclear.
 * @property {string} [dataPath] How its volumes' data is kept, when it is.
 * @property {string} [problem] Why its volumes get no data.
 */

/**
 * A collection, or nothing when the API does not serve it (the snapshot CRDs may not be installed).
 * @param {KubeApi} api
 * @param {string} path
 */
async function listOrNone(api, path) {
    try {
        return await api.list(path);
    } catch (e) {
        // The API server's 404 (kube.js ApiError; the simulated cluster's error carries the same status).
        if (/** @type {{ status?: number }} */ (e)?.status === 404) {
            return [];
        }
        throw e;
    }
}

/** @param {KubeObject} pv */
const volumeTypeOf = (pv) => VOLUME_SOURCES.find((k) => pv.spec?.[k] !== undefined) ?? "unknown";

/**
 * The volume type local-path-provisioner creates for a class: its `defaultVolumeType` annotation (case-insensitive),
 * else `hostPath`.
 * @param {KubeObject} storageClass
 */
function localPathType(storageClass) {
    const value = String(
        storageClass.metadata?.annotations?.defaultVolumeType ?? storageClass.parameters?.defaultVolumeType ?? "",
    );
    return value.toLowerCase() === "local" ? "local" : "hostPath";
}

/**
 * @param {KubeApi} api
 * @param {StoragePreflightArgs} args
 */
async function storagePreflight(api, args) {
    const classes = await api.list("/apis/storage.k8s.io/v1/storageclasses");
    const csiDrivers = new Set(
        (await listOrNone(api, "/apis/storage.k8s.io/v1/csidrivers")).map((d) => String(d.metadata.name)),
    );
    const snapshotDrivers = new Set([
        ...(await listOrNone(api, "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses")).map((c) =>
            String(c.driver),
        ),
        ...args.snapshotClassDrivers,
    ]);
    const volumes = await api.list("/api/v1/persistentvolumes");
    /** @type {ClassVerdict[]} */
    const verdicts = [];
    for (const sc of [...classes].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)))) {
        const name = String(sc.metadata.name);
        const provisioner = String(sc.provisioner ?? "");
        const own = volumes.filter((v) => v.spec?.storageClassName === name);
        /** @type {Map<string, number>} type -> existing volumes */
        const types = new Map();
        own.forEach((v) => types.set(volumeTypeOf(v), (types.get(volumeTypeOf(v)) ?? 0) + 1));
        const expected =
            provisioner === LOCAL_PATH_PROVISIONER
                ? localPathType(sc)
                : csiDrivers.has(provisioner) || own.some((v) => v.spec?.csi?.driver === provisioner)
                  ? "csi"
                  : undefined;
        if (expected !== undefined && !types.has(expected)) {
            types.set(expected, 0);
        }
        if (types.size === 0) {
            verdicts.push({ name, provisioner, volumeTypes: ["unknown"] });
            continue;
        }
        /** @type {string[]} */
        const problems = [];
        /** @type {string[]} */
        const paths = [];
        for (const [type, count] of types) {
            const existing = count > 0 ? ` (${count} existing volume${count === 1 ? "" : "s"})` : "";
            if (args.fileSystemBackupVolumeTypes.includes(type)) {
                paths.push(`${type}: file-system backup`);
            } else if (type === "csi") {
                const drivers = [
                    ...new Set([provisioner, ...own.filter((v) => v.spec?.csi).map((v) => String(v.spec.csi.driver))]),
                ];
                const missing = drivers.filter((d) => !snapshotDrivers.has(d));
                if (missing.length === 0) {
                    paths.push(
                        `csi: ${args.volumeDataMode === "dataMover" ? "CSI snapshot moved into the vault" : "CSI snapshot"}`,
                    );
                } else {
                    problems.push(
                        `CSI driver ${missing.join(", ")} has no VolumeSnapshotClass${existing}: Velero cannot snapshot its volumes`,
                    );
                }
            } else if (type === "hostPath") {
                problems.push(
                    `creates hostPath volumes${existing}${provisioner === LOCAL_PATH_PROVISIONER ? ` (its defaultVolumeType annotation is ${JSON.stringify(sc.metadata?.annotations?.defaultVolumeType ?? "unset")}; local-path-provisioner's default is hostPath)` : ""}, which Velero cannot back up`,
                );
            } else if (type === "awsElasticBlockStore" && args.volumeDataMode === "nativeSnapshots") {
                paths.push("awsElasticBlockStore: native EBS snapshot");
            } else {
                problems.push(
                    `creates ${type} volumes${existing}, which are neither CSI (no snapshot) nor in gitops-dr:fileSystemBackupVolumeTypes`,
                );
            }
        }
        verdicts.push({
            name,
            provisioner,
            volumeTypes: [...types.keys()].sort(),
            ...(paths.length > 0 ? { dataPath: paths.join("; ") } : {}),
            ...(problems.length > 0 ? { problem: problems.join("; ") } : {}),
        });
    }
    const withoutData = verdicts.filter((v) => v.problem !== undefined);
    const refused = withoutData.filter((v) => !args.acknowledged.includes(v.name));
    if (refused.length > 0) {
        throw new TaskFailure(
            `${refused.length === 1 ? "This StorageClass's" : "These StorageClasses'"} volumes would get no data in the backups, although each backup would end Completed: ` +
                refused.map((v) => `${v.name} (provisioner ${v.provisioner}: ${v.problem})`).join("; ") +
                '. Fix each: a hostPath class, make it create local volumes (`kubectl annotate storageclass <name> defaultVolumeType=local`) and move the existing claims (README "Homelab (k3s) storage"); ' +
                "a CSI driver, create a VolumeSnapshotClass for it (or `pulumi config set --path 'gitops-dr:volumeSnapshotClassDrivers[0]' <driver>`), or back its volumes up file by file (add csi to gitops-dr:fileSystemBackupVolumeTypes); " +
                "another type, add it to gitops-dr:fileSystemBackupVolumeTypes. " +
                `Or accept that these volumes are not backed up: ${refused.map((v, i) => `\`pulumi config set --path 'gitops-dr:storageClassesWithoutData[${args.acknowledged.length + i}]' ${v.name}\``).join(" and ")}. ` +
                "No Schedule was created. After fixing the cluster (the accepted list changes the Job's inputs, which runs it again), run it again with `pulumi up --replace <URN>`, the URN of the Job ending in storage-preflight-job (`pulumi stack --show-urns`).",
        );
    }
    return {
        classes: verdicts,
        acknowledged: withoutData.map((v) => v.name),
        undetermined: verdicts.filter((v) => v.volumeTypes.includes("unknown")).map((v) => v.name),
    };
}

module.exports = { LOCAL_PATH_PROVISIONER, storagePreflight };
