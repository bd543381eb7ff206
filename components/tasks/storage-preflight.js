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
 * A CSI driver has a usable class only when Velero would select one: with two or more classes for a driver, one must
 * carry the `velero.io/csi-volumesnapshot-class` label or the default-class annotation.
 *
 * What a class creates is read from its provisioner (a CSIDriver object names a CSI driver; local-path-provisioner's
 * annotation) and from the volumes it already made. Volumes of no StorageClass object (static PVs with
 * `storageClassName: ""`, grouped as `<no class>`, or of a class name with no object, e.g. `manual`) are judged by
 * their volume types. A class of another provisioner that has made no volume yet
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
 * else `hostPath`. Only the annotation counts: the provisioner never reads a `defaultVolumeType` parameter
 * (rancher/local-path-provisioner `provisioner.go` `Provision`: the class's annotation, then the claim's `volumeType`
 * annotation, then hostPath).
 * @param {KubeObject} storageClass
 */
function localPathType(storageClass) {
    const value = String(storageClass.metadata?.annotations?.defaultVolumeType ?? "");
    return value.toLowerCase() === "local" ? "local" : "hostPath";
}

/** The label that makes Velero select a VolumeSnapshotClass for its driver (`velero.io/csi-volumesnapshot-class`). */
const SNAPSHOT_CLASS_LABEL = "velero.io/csi-volumesnapshot-class";
/** The annotation of a driver's default class, by key alone (`snapshot.storage.kubernetes.io/is-default-class`). */
const DEFAULT_SNAPSHOT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class";

/**
 * The drivers for which Velero selects a VolumeSnapshotClass, and the classes of the others: the first class of the
 * driver carrying the label, else one carrying the default-class annotation (any value), else the driver's only
 * class; with two or more classes and neither, none, and every claim of the driver fails (velero v1.18.1
 * `pkg/util/csi/volume_snapshot.go` `GetVolumeSnapshotClassForStorageClass`).
 * @param {KubeObject[]} classes
 * @param {string[]} labelled drivers the program creates a labelled class for
 * @returns {{ selected: Set<string>, unselectable: Map<string, string[]> }}
 */
function selectableDrivers(classes, labelled) {
    /** @type {Map<string, KubeObject[]>} */
    const byDriver = new Map();
    for (const c of classes) {
        const driver = String(c.driver ?? "");
        byDriver.set(driver, [...(byDriver.get(driver) ?? []), c]);
    }
    const selected = new Set(labelled);
    /** @type {Map<string, string[]>} */
    const unselectable = new Map();
    for (const [driver, own] of byDriver) {
        if (
            own.length === 1 ||
            own.some((c) => c.metadata?.labels?.[SNAPSHOT_CLASS_LABEL] !== undefined) ||
            own.some((c) => c.metadata?.annotations?.[DEFAULT_SNAPSHOT_CLASS_ANNOTATION] !== undefined)
        ) {
            selected.add(driver);
        } else if (!selected.has(driver)) {
            unselectable.set(driver, own.map((c) => String(c.metadata.name)).sort());
        }
    }
    return { selected, unselectable };
}

/** The pseudo-class of volumes with `storageClassName: ""` (or none): static PVs bound by hand. */
const NO_CLASS = "<no class>";

/**
 * @param {KubeApi} api
 * @param {StoragePreflightArgs} args
 */
async function storagePreflight(api, args) {
    const classes = await api.list("/apis/storage.k8s.io/v1/storageclasses");
    const csiDrivers = new Set(
        (await listOrNone(api, "/apis/storage.k8s.io/v1/csidrivers")).map((d) => String(d.metadata.name)),
    );
    const snapshots = selectableDrivers(
        await listOrNone(api, "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses"),
        args.snapshotClassDrivers,
    );
    const volumes = await api.list("/api/v1/persistentvolumes");
    const classNames = new Set(classes.map((c) => String(c.metadata.name)));
    /** @type {{ name: string, sc?: KubeObject, own: KubeObject[] }[]} */
    const groups = [...classes]
        .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)))
        .map((sc) => ({
            name: String(sc.metadata.name),
            sc,
            own: volumes.filter((v) => v.spec?.storageClassName === sc.metadata.name),
        }));
    // Static PVs of no class, or of a class name with no StorageClass object (hostPath PVs of class `manual`, as
    // homelab guides make them): judged by their volumes alone.
    /** @type {Map<string, KubeObject[]>} */
    const orphans = new Map();
    for (const v of volumes) {
        const className = String(v.spec?.storageClassName ?? "");
        if (!classNames.has(className)) {
            const key = className === "" ? NO_CLASS : className;
            orphans.set(key, [...(orphans.get(key) ?? []), v]);
        }
    }
    for (const [name, own] of [...orphans].sort(([a], [b]) => a.localeCompare(b))) {
        groups.push({ name, own });
    }
    /** @type {ClassVerdict[]} */
    const verdicts = [];
    for (const { name, sc, own } of groups) {
        const provisioner = sc === undefined ? "none: no StorageClass object" : String(sc.provisioner ?? "");
        /** @type {Map<string, number>} type -> existing volumes */
        const types = new Map();
        own.forEach((v) => types.set(volumeTypeOf(v), (types.get(volumeTypeOf(v)) ?? 0) + 1));
        const expected =
            sc === undefined
                ? undefined
                : provisioner === LOCAL_PATH_PROVISIONER
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
                    ...new Set([
                        ...(sc === undefined ? [] : [provisioner]),
                        ...own.filter((v) => v.spec?.csi).map((v) => String(v.spec.csi.driver)),
                    ]),
                ];
                const missing = drivers.filter((d) => !snapshots.selected.has(d));
                if (missing.length === 0) {
                    paths.push(
                        `csi: ${args.volumeDataMode === "dataMover" ? "CSI snapshot moved into the vault" : "CSI snapshot"}`,
                    );
                }
                for (const d of missing) {
                    const several = snapshots.unselectable.get(d);
                    problems.push(
                        several === undefined
                            ? `CSI driver ${d} has no VolumeSnapshotClass${existing}: Velero cannot snapshot its volumes`
                            : `CSI driver ${d} has ${several.length} VolumeSnapshotClasses (${several.join(", ")}) and none is labelled ${SNAPSHOT_CLASS_LABEL} or annotated ${DEFAULT_SNAPSHOT_CLASS_ANNOTATION}${existing}: Velero selects none and fails every claim of it; label one: \`kubectl label volumesnapshotclass ${several[0]} ${SNAPSHOT_CLASS_LABEL}=true\``,
                    );
                }
            } else if (type === "hostPath") {
                problems.push(
                    sc === undefined
                        ? `${count} hostPath volume${count === 1 ? "" : "s"} of no StorageClass object, which Velero cannot back up`
                        : expected === "local"
                          ? // A k3s upgrade annotates the class; the volumes made before stay hostPath (k3s #9872).
                            `${count} existing hostPath volume${count === 1 ? "" : "s"}: migrate ${count === 1 ? "it" : "them"} (README "Homelab (k3s) storage"), which Velero cannot back up as they are`
                          : `creates hostPath volumes${existing}${provisioner === LOCAL_PATH_PROVISIONER ? ` (its defaultVolumeType annotation is ${JSON.stringify(sc?.metadata?.annotations?.defaultVolumeType ?? "unset")}; local-path-provisioner's default is hostPath)` : ""}, which Velero cannot back up`,
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
                `hostPath volumes of no StorageClass object (${NO_CLASS} or a class name no StorageClass has), move their data to claims of a class backed up; ` +
                "a CSI driver, create a VolumeSnapshotClass for it (or `pulumi config set --path 'gitops-dr:volumeSnapshotClassDrivers[0]' <driver>`), or back its volumes up file by file (add csi to gitops-dr:fileSystemBackupVolumeTypes); " +
                "another type, add it to gitops-dr:fileSystemBackupVolumeTypes. " +
                `Or accept that these volumes are not backed up: ${refused.map((v, i) => `\`pulumi config set --path 'gitops-dr:storageClassesWithoutData[${args.acknowledged.length + i}]' ${v.name === NO_CLASS ? `'${NO_CLASS}'` : v.name}\``).join(" and ")}. ` +
                "No Schedule was created. After fixing the cluster (the accepted list changes the Job's inputs, which runs it again), run it again with `pulumi up --replace <URN>`, the URN of the Job ending in storage-preflight-job (`pulumi stack --show-urns`).",
        );
    }
    return {
        classes: verdicts,
        acknowledged: withoutData.map((v) => v.name),
        undetermined: verdicts.filter((v) => v.volumeTypes.includes("unknown")).map((v) => v.name),
    };
}

module.exports = { LOCAL_PATH_PROVISIONER, NO_CLASS, storagePreflight };
