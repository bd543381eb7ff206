/**
 * The clean-restore proof: which items of a backup a run's Restore would bring back although something the program
 * installs itself creates them too. With existingResourcePolicy `none`, each such item is a warning when the
 * install won (velero `pkg/restore/restore.go`), or a failed install when the restore won; a clean recovery has
 * none. Everything the run registers that does not wait for the Restore may exist first (the Argo CD chart
 * installs while the restore runs), and so may what the charts create besides what the program registers.
 */
import type { ProgramRun } from "../run";
import { KubeObject, objectPath } from "./store";
import { SimulatedBackup, SimulatedVelero } from "./velero";

/** The Secrets a chart creates in its release's namespace, besides Helm's own release record. */
const CHART_SECRETS: Readonly<Record<string, readonly string[]>> = {
    // argo-helm charts/argo-cd 10.1.1: templates/argocd-configs/argocd-secret.yaml, argocd-notifications-secret.yaml,
    // and the redis-secret-init hook Job's argocd-redis.
    "argo-cd": ["argocd-secret", "argocd-notifications-secret", "argocd-redis"],
    velero: [],
};

/** What a chart installs, as objects, for a Helm release's inputs. */
function chartObjects(release: KubeObject): { object: KubeObject; origin: string }[] {
    const chart = String(release.chart ?? "");
    const name = chart.slice(chart.lastIndexOf("/") + 1).replace(/-\d+\.\d+\.\d+\.tgz$/, "");
    const namespace = String(release.namespace);
    const secret = (secretName: string, labels: Record<string, string> = {}) => ({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: secretName, namespace, labels },
    });
    return [
        // Helm 3 keeps each revision in `sh.helm.release.v1.<release>.v<revision>` (owner: helm).
        {
            object: secret(`sh.helm.release.v1.${String(release.name)}.v1`, { owner: "helm" }),
            origin: `the ${name} chart`,
        },
        ...(CHART_SECRETS[name] ?? []).map((s) => ({ object: secret(s), origin: `the ${name} chart` })),
    ];
}

/** The items of `backup` the run's Restore would restore over something the run installs itself. */
export function restoreConflicts(run: ProgramRun, backup: SimulatedBackup): string[] {
    const restore = run.restore();
    const before = run.resources.filter(
        (r) => r.type.startsWith("kubernetes:") && r !== restore && !run.dependsOn(r, restore),
    );
    const existing = new Map<string, string>();
    for (const r of before) {
        const objects =
            r.type === "kubernetes:helm.sh/v3:Release"
                ? chartObjects(r.inputs)
                : [{ object: r.inputs, origin: r.name }];
        for (const { object, origin } of objects) {
            const path = objectPath(object);
            if (path !== undefined) {
                existing.set(path, origin);
            }
        }
    }
    const velero = new SimulatedVelero(undefined, [backup]);
    const spec = restore.inputs.spec as KubeObject;
    return velero
        .restoredItems(spec, backup)
        .filter((o) => o.kind !== "PersistentVolume" || SimulatedVelero.restoredAsIs(o, backup))
        .flatMap((o) => {
            const origin = existing.get(objectPath(o) ?? "");
            return origin === undefined
                ? []
                : [`${String(o.kind)} ${String(o.metadata.namespace)}/${String(o.metadata.name)} (${origin})`];
        });
}

/** An object as the run left it in the simulated cluster (a restored PV, a claim...), or undefined. */
export function restoredObject(
    run: ProgramRun,
    kind: string,
    name: string,
    namespace?: string,
): KubeObject | undefined {
    return run.cluster?.store
        .all()
        .find(
            (o) =>
                o.kind === kind &&
                o.metadata?.name === name &&
                (namespace === undefined || o.metadata?.namespace === namespace),
        );
}
