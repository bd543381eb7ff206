/**
 * The AWS identity Velero runs as: a writer on the cluster's own prefix (protect, recover), a restorer on the
 * source prefix (recover, drill), and the credentials that bind them to the Velero server service account.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { CredentialSettings, Mode, StaticKeys, VolumeDataMode } from "./config";
import { eksClusterArn, ebsSnapshotPolicy, irsaTrust, podIdentityTrust, restorerPolicy, writerPolicy } from "./iam";

export interface VeleroIamArgs {
    /** The stack's mode: decides which of the writer and restorer policies exist. */
    mode: Mode;
    /** Names the role and policies. */
    clusterName: string;
    /** How Velero authenticates to AWS. */
    credentials: CredentialSettings;
    /** ARN of the vault bucket. */
    bucketArn: pulumi.Input<string>;
    /** ARN of the vault's KMS key. */
    kmsKeyArn: pulumi.Input<string>;
    /** Prefix the cluster writes its own backups under. Required in protect and recover; absent in a drill. */
    writePrefix?: pulumi.Input<string>;
    /** Prefix the cluster restores from. Required in recover and drill; absent in protect. */
    sourcePrefix?: pulumi.Input<string>;
    /**
     * The bucket and key the restorer reads, when they are not the vault's (`sourceReplica`: the vault's off-site
     * replica). Defaults to `bucketArn` and `kmsKeyArn`.
     */
    source?: { bucketArn: pulumi.Input<string>; kmsKeyArn: pulumi.Input<string> };
    /** How volume data is backed up; native EBS snapshots add EC2 permissions. Defaults to `dataMover`. */
    volumeDataMode?: VolumeDataMode;
    /** Namespace of the Velero server service account. */
    namespace: string;
    /** Name of the Velero server service account (`<fullname>-server` in the chart). */
    serviceAccount: string;
}

/**
 * IAM for Velero. Policies are managed policies so that with static keys they can be attached to the key's
 * user by hand; with IRSA or Pod Identity they are attached to a role this component creates.
 */
export class VeleroIam extends pulumi.ComponentResource {
    /** ARN of the role Velero assumes; absent with static keys. */
    public readonly roleArn?: pulumi.Output<string>;
    /** ARNs of the managed policies, writer first when both exist. */
    public readonly policyArns: pulumi.Output<string>[];
    /** With static keys: the pair Velero uses, set in config or made with the user this component creates. */
    public readonly staticKeys?: StaticKeys;
    /** With `createAccessKey`: the user this component creates and its key's id (no secret: CloudTrail logs it). */
    public user?: { readonly name: pulumi.Output<string>; readonly accessKeyId: pulumi.Output<string> };

    constructor(name: string, args: VeleroIamArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:velero:VeleroIam", name, {}, opts);
        const policies: aws.iam.Policy[] = [];
        if (args.mode !== "drill") {
            if (args.writePrefix === undefined) {
                throw new Error(`VeleroIam ${name}: writePrefix is required in ${args.mode} mode`);
            }
            policies.push(
                new aws.iam.Policy(
                    `${name}-writer`,
                    {
                        name: `${args.clusterName}-velero-writer`,
                        description: `Velero on ${args.clusterName}: back up under its own prefix`,
                        policy: pulumi
                            .all([args.bucketArn, args.kmsKeyArn, args.writePrefix])
                            .apply(([bucketArn, kmsKeyArn, prefix]) =>
                                JSON.stringify(writerPolicy({ bucketArn, kmsKeyArn, prefix })),
                            ),
                    },
                    { parent: this },
                ),
            );
        }
        if (args.mode !== "protect") {
            if (args.sourcePrefix === undefined) {
                throw new Error(`VeleroIam ${name}: sourcePrefix is required in ${args.mode} mode`);
            }
            policies.push(
                new aws.iam.Policy(
                    `${name}-restorer`,
                    {
                        name: `${args.clusterName}-velero-restorer`,
                        description: `Velero on ${args.clusterName}: restore from the source prefix, read-only`,
                        policy: pulumi
                            .all([
                                args.source?.bucketArn ?? args.bucketArn,
                                args.source?.kmsKeyArn ?? args.kmsKeyArn,
                                args.sourcePrefix,
                            ])
                            .apply(([bucketArn, kmsKeyArn, prefix]) =>
                                JSON.stringify(restorerPolicy({ bucketArn, kmsKeyArn, prefix })),
                            ),
                    },
                    { parent: this },
                ),
            );
        }
        if (args.volumeDataMode === "nativeSnapshots") {
            policies.push(
                new aws.iam.Policy(
                    `${name}-ebs-snapshots`,
                    {
                        name: `${args.clusterName}-velero-ebs-snapshots`,
                        description: `Velero on ${args.clusterName}: native EBS snapshots`,
                        policy: JSON.stringify(ebsSnapshotPolicy(args.mode === "drill" ? "restorer" : "writer")),
                    },
                    { parent: this },
                ),
            );
        }
        this.policyArns = policies.map((p) => p.arn);

        const credentials = args.credentials;
        switch (credentials.mode) {
            case "irsa":
            case "podIdentity": {
                const trust: pulumi.Output<string> =
                    credentials.mode === "irsa"
                        ? pulumi.output(
                              JSON.stringify(
                                  irsaTrust(credentials.oidcProviderArn, args.namespace, args.serviceAccount),
                              ),
                          )
                        : aws.getCallerIdentityOutput({}, { parent: this }).apply((account) =>
                              JSON.stringify(
                                  podIdentityTrust(
                                      args.namespace,
                                      args.serviceAccount,
                                      // The association is created in the role's account, so the cluster is there.
                                      eksClusterArn(
                                          account.arn.split(":")[1] ?? "aws",
                                          credentials.clusterRegion,
                                          account.accountId,
                                          credentials.eksClusterName,
                                      ),
                                  ),
                              ),
                          );
                const role = new aws.iam.Role(
                    `${name}-role`,
                    {
                        // Named from the cluster, not autonamed from the stack: `<project>-<stack>-velero-iam-role-`
                        // plus 7 random characters passes IAM's 64 with a long stack name. clusterName has at most
                        // 40 characters, so this has at most 47.
                        name: `${args.clusterName}-velero`,
                        description: `Velero server on ${args.clusterName} (${args.mode})`,
                        assumeRolePolicy: trust,
                    },
                    { parent: this },
                );
                policies.forEach((policy, i) => {
                    new aws.iam.RolePolicyAttachment(
                        `${name}-attach-${i}`,
                        { role: role.name, policyArn: policy.arn },
                        { parent: this },
                    );
                });
                if (credentials.mode === "podIdentity") {
                    new aws.eks.PodIdentityAssociation(
                        `${name}-pod-identity`,
                        {
                            // The EKS cluster's region, which may differ from the vault's (the provider's).
                            region: credentials.clusterRegion,
                            clusterName: credentials.eksClusterName,
                            namespace: args.namespace,
                            serviceAccount: args.serviceAccount,
                            roleArn: role.arn,
                        },
                        { parent: this },
                    );
                }
                this.roleArn = role.arn;
                break;
            }
            case "staticKeys":
                if (credentials.keys === "create") {
                    this.staticKeys = this.createUser(name, args.clusterName, args.mode, policies);
                } else {
                    // The key pair belongs to an IAM user the operator manages; the README says to attach policyArns.
                    this.staticKeys = credentials.keys;
                }
                break;
            default: {
                const unreachable: never = credentials;
                throw new Error(`unhandled credentials ${JSON.stringify(unreachable)}`);
            }
        }
        this.registerOutputs({ roleArn: this.roleArn, policyArns: this.policyArns });
    }

    /**
     * The IAM user Velero runs as outside AWS, with the policies attached and one access key. The key's secret is
     * kept in the state as a Pulumi secret (the provider marks it so; wrapped again so that no engine shows it);
     * `pulumi up --replace` on the key rotates it, and Velero's credentials Secret follows.
     */
    private createUser(name: string, clusterName: string, mode: Mode, policies: aws.iam.Policy[]): StaticKeys {
        const user = new aws.iam.User(
            `${name}-user`,
            {
                // clusterName has at most 40 characters; IAM user names take 64.
                name: `${clusterName}-velero`,
                tags: { "gitops-dr.io/cluster": clusterName, "gitops-dr.io/mode": mode },
            },
            { parent: this },
        );
        const attachments = policies.map(
            (policy, i) =>
                new aws.iam.UserPolicyAttachment(
                    `${name}-user-attach-${i}`,
                    { user: user.name, policyArn: policy.arn },
                    { parent: this },
                ),
        );
        // After the policies: Velero starts with the key, and must not start with a key that may do nothing yet.
        const key = new aws.iam.AccessKey(`${name}-key`, { user: user.name }, { parent: this, dependsOn: attachments });
        this.user = { name: user.name, accessKeyId: key.id };
        return { accessKeyId: pulumi.secret(key.id), secretAccessKey: pulumi.secret(key.secret) };
    }
}
