/**
 * Argo CD: the pinned Helm release that rebuilds everything except the persistent data from git, the resource
 * exclusions that leave PVs, PVCs and Secrets to Velero (values.ts), the root Application (app of apps) that waits
 * for the restore in recover and drill (manifests.ts), a private repository's credentials, and the first-install
 * switch that lets named new Applications create their claims and Secrets once (seed.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { userSecret } from "../helm-values";
import { pinnedRelease } from "../kube";
import { ARGO_CD_CHART } from "../versions";
import { ArgoCdArgs, argoCdArgsProblems, resolveArgoCdArgs } from "./args";
import { repositorySecret, rootApplication } from "./manifests";
import { ARGO_API_VERSION } from "./names";
import { createSeeding } from "./seed";
import { argoCdValues } from "./values";

export * from "./args";
export * from "./manifests";
export * from "./names";
export * from "./seed";
export * from "./values";
export { SYNC_GATE_ANNOTATION } from "../names";

/** Argo CD on one cluster, with its root Application and, while switched on, first-install seeding. */
export class ArgoCd extends pulumi.ComponentResource {
    /** The Helm release; the root Application waits for it. */
    public readonly release: k8s.helm.v3.Release;
    /** The root Application. */
    public readonly rootApplication: k8s.apiextensions.CustomResource;
    public readonly releaseName: string;
    public readonly namespace: pulumi.Output<string>;
    public readonly rootAppName: string;
    /** Applications being seeded (first-install switch); empty when the switch is off. */
    public readonly firstInstallApps: string[];
    /** Names of the seed Applications, one per entry of {@link firstInstallApps}. */
    public readonly seedApplicationNames: string[];

    constructor(name: string, args: ArgoCdArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:argocd:ArgoCd", name, {}, { ...opts, providers: [args.provider] });
        const problems = argoCdArgsProblems(args);
        if (problems.length > 0) {
            throw new Error(`ArgoCd ${name}: ${problems.length} invalid argument(s):\n- ${problems.join("\n- ")}`);
        }
        const resolved = resolveArgoCdArgs(args);
        const { releaseName, namespace: namespaceName, rootAppName } = resolved;
        const apps = [...resolved.firstInstallApps];
        const seeding = apps.length > 0;
        const child = { parent: this, provider: args.provider };

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: namespaceName } }, child);

        const rootDependencies: pulumi.Resource[] = [];
        const credentials = args.repoCredentials;
        if (credentials !== undefined) {
            const manifest = repositorySecret({
                name: `${rootAppName}-repository`,
                namespace: namespaceName,
                url: args.repoUrl,
                credentials:
                    "sshPrivateKey" in credentials
                        ? { sshPrivateKey: pulumi.secret(credentials.sshPrivateKey) }
                        : {
                              username: pulumi.secret(credentials.username),
                              password: pulumi.secret(credentials.password),
                          },
            });
            rootDependencies.push(
                new k8s.core.v1.Secret(
                    `${name}-repository`,
                    {
                        metadata: manifest.metadata,
                        type: manifest.type,
                        stringData: manifest.stringData,
                    },
                    { ...child, dependsOn: [namespace] },
                ),
            );
        }

        this.release = pinnedRelease(
            `${name}-release`,
            {
                releaseName,
                namespace: namespace.metadata.name,
                chart: ARGO_CD_CHART,
                source: args.chartSource,
                values: userSecret(
                    argoCdValues({ seeding, imageRegistry: args.imageRegistry, userValues: args.userValues?.values }),
                    args.userValues,
                ),
                // Values are exactly ours on every upgrade, so turning seeding off removes resource.inclusions.
                resetValues: true,
            },
            { ...child, dependsOn: [namespace] },
        );
        rootDependencies.push(this.release);

        this.seedApplicationNames = seeding
            ? createSeeding(name, { apps, namespaceName, namespace, release: this.release }, child)
            : [];

        const root = pulumi.output(args.syncGate).apply((syncGate) =>
            rootApplication({
                name: rootAppName,
                argoCdNamespace: namespaceName,
                project: resolved.project,
                repoUrl: args.repoUrl,
                path: args.path,
                revision: resolved.revision,
                syncGate,
            }),
        );
        this.rootApplication = new k8s.apiextensions.CustomResource(
            `${name}-root-app`,
            {
                apiVersion: ARGO_API_VERSION,
                kind: "Application",
                // metadata carries the gate, so the root app is registered only once the gate resolves, and its
                // inputs depend on whatever produced the gate (not only an ordering hint).
                metadata: root.metadata,
                spec: root.spec,
            },
            { ...child, dependsOn: rootDependencies },
        );

        if (seeding) {
            void pulumi.log.warn(
                `First-install seeding is ON for ${apps.join(", ")}: Argo CD creates these apps' claims and Secrets once, from git. ` +
                    "Remove firstInstallApps once they exist (docs/argocd.md).",
                this,
            );
        }

        this.releaseName = releaseName;
        this.namespace = namespace.metadata.name;
        this.rootAppName = rootAppName;
        this.firstInstallApps = apps;
        this.registerOutputs({
            releaseName: this.releaseName,
            namespace: this.namespace,
            rootAppName: this.rootAppName,
            firstInstallApps: this.firstInstallApps,
            seedApplicationNames: this.seedApplicationNames,
        });
    }
}
