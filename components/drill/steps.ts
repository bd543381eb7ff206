/** The drill verification's steps: kubectl commands, in order. */
import type { DrillCheck } from "../config";
import { QUARANTINED_LABEL } from "../tasks/labels";

/** Name of the verification's ServiceAccount, ClusterRole and Job. */
export const VERIFY_NAME = "gitops-dr-drill-verify";

/** One step of the verification: a name and the kubectl arguments. */
export interface VerifyStep {
    readonly name: string;
    readonly args: readonly string[];
}

/** The kubectl steps, in order. Pure, so tests read exactly what runs. */
export function verifySteps(input: {
    readonly argoCdNamespace: string;
    readonly rootAppName: string;
    readonly restoreName: string;
    readonly checks: readonly DrillCheck[];
    readonly timeoutSeconds: number;
}): VerifyStep[] {
    const timeout = `--timeout=${input.timeoutSeconds}s`;
    const ns = input.argoCdNamespace;
    return [
        // Creating the root Application does not wait for Argo CD, and app-of-apps health leaves the child apps
        // out: wait for the root to sync (so the child Applications exist), then for all of them.
        {
            name: "root-synced",
            args: [
                "wait",
                "--for=jsonpath={.status.sync.status}=Synced",
                `application/${input.rootAppName}`,
                "-n",
                ns,
                timeout,
            ],
        },
        {
            name: "apps-synced",
            args: ["wait", "--for=jsonpath={.status.sync.status}=Synced", "applications", "--all", "-n", ns, timeout],
        },
        {
            name: "apps-healthy",
            args: [
                "wait",
                "--for=jsonpath={.status.health.status}=Healthy",
                "applications",
                "--all",
                "-n",
                ns,
                timeout,
            ],
        },
        // Velero labels what it restores with velero.io/restore-name; kubectl fails when nothing matches.
        {
            name: "claims-bound",
            args: [
                "wait",
                "--for=jsonpath={.status.phase}=Bound",
                "persistentvolumeclaims",
                "--all-namespaces",
                "-l",
                // Claims a drill quarantined hold no data on purpose: the report lists them.
                `velero.io/restore-name=${input.restoreName},!${QUARANTINED_LABEL}`,
                timeout,
            ],
        },
        ...input.checks.map((c, i) => ({
            name: `check-${i + 1}`,
            args: ["exec", "-n", c.namespace, c.target, "--", ...c.command],
        })),
    ];
}
