/** The ArgoCd component's arguments, their defaults (resolved once) and their validation. */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

import type { ChartSource, Mode, UserValues } from "../config";
import { DEFAULT_NAMES, isDnsLabel, isDnsSubdomain } from "../names";
import { RepositoryCredentials, isSshUrl } from "./manifests";
import { seedApplicationName } from "./seed";

export interface ArgoCdArgs {
    /** The stack's mode: `syncGate` is required and `firstInstallApps` refused in recover and drill. */
    mode: Mode;
    /** Helm release name. Defaults to `argocd` (with the chart's `nameOverride: argocd`, objects are named `argocd-*`). */
    releaseName?: string;
    /** Namespace Argo CD runs in, created by this component; Velero must exclude it from backups. Defaults to `argocd`. */
    namespace?: string;
    /** Git repository of the root Application, e.g. `https://github.com/acme/gitops.git` or `git@github.com:acme/gitops.git`. Required. */
    repoUrl: string;
    /** Directory in the repository holding the child Applications. Required (`.` for the repository root). */
    path: string;
    /** Branch, tag or commit the root Application follows. Defaults to `HEAD`. */
    revision?: string;
    /** Name of the root Application. Defaults to `root`. */
    rootAppName?: string;
    /** AppProject of the root Application. Defaults to `default` (Argo CD creates it). */
    project?: string;
    /**
     * Credentials of a private `repoUrl`, as Pulumi secrets: `{ username, password }` for HTTPS (a token as
     * password) or `{ sshPrivateKey }` for SSH. They become a repository Secret in Argo CD's namespace.
     * Defaults to none (a public repository).
     */
    repoCredentials?: RepositoryCredentials<pulumi.Input<string>>;
    /**
     * A value the root Application waits for: it is written to the `gitops-dr.io/sync-gate` annotation, so the
     * root app is only created once it resolves (for example the restore's name, resolved after the restore
     * succeeded). Required in recover and drill; defaults to none in protect.
     */
    syncGate?: pulumi.Input<string>;
    /**
     * First-install switch: names of Applications (in Argo CD's namespace, deployed in-cluster) whose claims
     * and Secrets Argo CD may create once, from git. Only in protect mode; set it after the apps appear in
     * Argo CD, remove it once their claims and Secrets exist (docs/argocd.md). Defaults to none.
     */
    firstInstallApps?: readonly string[];
    /** Where the pinned argo-cd chart comes from. Defaults to its public repository. */
    chartSource?: ChartSource;
    /** Registry every image is pulled from (components/mirrors.ts). Defaults to none: public registries. */
    imageRegistry?: string;
    /**
     * Chart values of the user's own (`gitops-dr:argoCdValues`), checked against the guarded paths
     * (components/config/user-values.ts) and merged over the program's. Defaults to none.
     */
    userValues?: UserValues;
    /** Kubernetes provider of the target cluster. */
    provider: k8s.Provider;
}

/** The arguments with every default resolved: the one place defaults are decided. */
export interface ResolvedArgoCdArgs extends ArgoCdArgs {
    readonly releaseName: string;
    readonly namespace: string;
    readonly rootAppName: string;
    readonly revision: string;
    readonly project: string;
    readonly firstInstallApps: readonly string[];
}

/** Resolves the documented defaults. Pure. */
export function resolveArgoCdArgs<T extends Omit<ArgoCdArgs, "provider">>(
    args: T,
): T & Omit<ResolvedArgoCdArgs, "provider"> {
    return {
        ...args,
        releaseName: args.releaseName ?? DEFAULT_NAMES.argoCdRelease,
        namespace: args.namespace ?? DEFAULT_NAMES.argoCdNamespace,
        rootAppName: args.rootAppName ?? DEFAULT_NAMES.rootApplication,
        revision: args.revision ?? "HEAD",
        project: args.project ?? "default",
        firstInstallApps: args.firstInstallApps ?? [],
    };
}

/** Every problem with the arguments, each naming the property, the bad value and the fix. */
export function argoCdArgsProblems(given: Omit<ArgoCdArgs, "provider">): string[] {
    const problems: string[] = [];
    const args = resolveArgoCdArgs(given);
    const { namespace, releaseName, rootAppName } = args;
    const apps = args.firstInstallApps;
    if (!isDnsLabel(namespace)) {
        problems.push(
            `namespace "${namespace}" is not a valid namespace name: use lowercase letters, digits and '-', at most 63 characters.`,
        );
    }
    if (releaseName.length > 53 || !isDnsLabel(releaseName)) {
        problems.push(
            `releaseName "${releaseName}" is not a valid Helm release name: use lowercase letters, digits and '-', at most 53 characters.`,
        );
    }
    if (!isDnsSubdomain(rootAppName)) {
        problems.push(
            `rootAppName "${rootAppName}" is not a valid Kubernetes name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit.`,
        );
    }
    if (args.repoUrl.trim() === "") {
        problems.push(
            "repoUrl is empty: set the git repository of the root Application, e.g. https://github.com/acme/gitops.git.",
        );
    }
    if (args.path.trim() === "" || args.path.startsWith("/")) {
        problems.push(
            `path "${args.path}" must be a directory relative to the repository root, e.g. "apps", or "." for the root itself.`,
        );
    }
    if (given.revision !== undefined && given.revision.trim() === "") {
        problems.push("revision is empty: set a branch, tag or commit, or leave it unset to follow HEAD.");
    }
    if (!isDnsSubdomain(args.project)) {
        problems.push(`project "${args.project}" is not a valid AppProject name.`);
    }
    const credentials = args.repoCredentials;
    if (credentials !== undefined && args.repoUrl.trim() !== "") {
        const ssh = isSshUrl(args.repoUrl);
        if ("sshPrivateKey" in credentials && !ssh) {
            problems.push(
                `repoCredentials has an SSH key but repoUrl "${args.repoUrl}" is not an SSH URL: use git@host:org/repo.git, or a username and password for HTTPS.`,
            );
        }
        if (!("sshPrivateKey" in credentials) && ssh) {
            problems.push(
                `repoCredentials has a username and password but repoUrl "${args.repoUrl}" is an SSH URL: use an https:// URL, or an SSH key.`,
            );
        }
    }
    if (args.mode !== "protect") {
        if (apps.length > 0) {
            problems.push(
                `firstInstallApps (${apps.join(", ")}) is refused in ${args.mode} mode: claims and Secrets come from the backup, and creating them from git ` +
                    "would give the apps new, empty volumes and new passwords. Remove firstInstallApps.",
            );
        }
        if (args.syncGate === undefined) {
            problems.push(
                `syncGate is required in ${args.mode} mode: the root Application must not sync before the restore has completed. Pass the restore's completion as syncGate.`,
            );
        }
    }
    const seen = new Set<string>();
    for (const app of apps) {
        if (!isDnsSubdomain(app) || seedApplicationName(app).length > 253) {
            problems.push(`firstInstallApps entry "${app}" is not a valid Application name.`);
        } else if (seen.has(app)) {
            problems.push(`firstInstallApps names "${app}" twice: list each Application once.`);
        } else if (app === rootAppName) {
            problems.push(
                `firstInstallApps names the root Application "${app}": name the new apps it creates instead.`,
            );
        }
        seen.add(app);
    }
    return problems;
}
