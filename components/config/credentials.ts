/** Parsing of how Velero authenticates to AWS. */
import { ConfigReader, q, rmCmd, setCmd } from "./reader";
import { CREDENTIALS_MODES, CredentialSettings } from "./types";
import { OIDC_PROVIDER_ARN, regionProblem } from "./values";

/** Told to whoever has no key pair yet: the stack can make one. */
const CREATE_HINT = `, or let the stack make the IAM user and its key: \`${setCmd("createAccessKey", "true")}\``;

const OIDC_EXAMPLE = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE";

/** Parses the credentials keys; undefined when they have a problem (already reported). */
export function parseCredentials(
    r: ConfigReader,
    clusterName: string | undefined,
    allowUnlistedRegion: boolean,
): CredentialSettings | undefined {
    const chosen = r.oneOf("credentialsMode", CREDENTIALS_MODES);
    if (chosen === undefined && r.isSet("credentialsMode")) {
        // One typo, one problem: no mode's own requirements are reported for a mode nobody chose.
        return undefined;
    }
    const mode = chosen ?? "irsa";
    let credentials: CredentialSettings | undefined;
    switch (mode) {
        case "irsa": {
            const arn = r.str("oidcProviderArn");
            if (arn === undefined) {
                r.problem(
                    "oidcProviderArn",
                    `is required with credentialsMode irsa. Fix: \`${setCmd("oidcProviderArn", OIDC_EXAMPLE)}\` (the issuer from \`aws eks describe-cluster --query cluster.identity.oidc.issuer\`).`,
                );
            } else if (!OIDC_PROVIDER_ARN.test(arn)) {
                r.problem(
                    "oidcProviderArn",
                    `${q(arn)} is not an EKS IAM OIDC provider ARN. Fix: \`${setCmd("oidcProviderArn", OIDC_EXAMPLE)}\`.`,
                );
            } else {
                credentials = { mode: "irsa", oidcProviderArn: arn };
            }
            r.unused(
                "eksClusterName",
                "it only names the cluster of a Pod Identity association (credentialsMode podIdentity)",
            );
            r.unused("clusterRegion", "it only places a Pod Identity association (credentialsMode podIdentity)");
            break;
        }
        case "podIdentity": {
            const clusterRegion = r.str("clusterRegion");
            if (clusterRegion === undefined) {
                // The association lives in the EKS cluster's region, which may differ from the vault's.
                r.problem(
                    "clusterRegion",
                    `is required with credentialsMode podIdentity: the association is made in the EKS cluster's region. Fix: \`${setCmd("clusterRegion", "eu-west-1")}\`.`,
                );
            } else {
                const issue = regionProblem(clusterRegion, allowUnlistedRegion);
                if (issue !== undefined) {
                    r.problem(
                        "clusterRegion",
                        `${q(clusterRegion)} ${issue} Fix: \`${setCmd("clusterRegion", "eu-west-1")}\`.`,
                    );
                }
            }
            credentials = {
                mode: "podIdentity",
                eksClusterName: r.str("eksClusterName") ?? clusterName ?? "",
                clusterRegion: clusterRegion ?? "",
            };
            r.unused("oidcProviderArn", "Pod Identity needs no OIDC provider (credentialsMode irsa uses it)");
            break;
        }
        case "staticKeys": {
            const create = r.explicit("createAccessKey");
            if (create !== undefined && create !== "true" && create !== "false") {
                // Reported by bool(); neither source of keys is then required.
                r.bool("createAccessKey", false);
            } else if (r.bool("createAccessKey", false)) {
                // One source of keys: a pair set by hand beside a created one would leave which Velero uses unclear,
                // and an unused long-lived pair in the stack is a liability.
                for (const key of ["awsAccessKeyId", "awsSecretAccessKey"] as const) {
                    if (r.isSet(key)) {
                        r.problem(
                            key,
                            `is set but createAccessKey is true: the stack makes the IAM user and its key itself. Fix: \`${rmCmd(key)}\` (and delete that key in IAM), or \`${setCmd("createAccessKey", "false")}\` to use your own pair.`,
                        );
                    }
                }
                credentials = { mode: "staticKeys", keys: "create" };
            } else {
                const accessKeyId = r.secret("awsAccessKeyId", true, "AKIA...", CREATE_HINT);
                const secretAccessKey = r.secret("awsSecretAccessKey", true, "<secret-access-key>");
                if (accessKeyId !== undefined && secretAccessKey !== undefined) {
                    credentials = { mode: "staticKeys", keys: { accessKeyId, secretAccessKey } };
                }
            }
            r.unused("oidcProviderArn", "static keys need no OIDC provider (credentialsMode irsa uses it)");
            r.unused(
                "eksClusterName",
                "it only names the cluster of a Pod Identity association (credentialsMode podIdentity)",
            );
            r.unused("clusterRegion", "it only places a Pod Identity association (credentialsMode podIdentity)");
            break;
        }
        default: {
            const unreachable: never = mode;
            throw new Error(`unhandled credentials mode ${String(unreachable)}`);
        }
    }
    if (mode !== "staticKeys") {
        // Only `true` is a problem: the project's default (false) reaches every stack.
        if (r.bool("createAccessKey", false)) {
            r.problem(
                "createAccessKey",
                `is set but credentialsMode is ${mode}: only static keys come from an IAM user. Fix: \`${rmCmd("createAccessKey")}\` or \`${setCmd("credentialsMode", "staticKeys")}\`.`,
            );
        }
        // Refused, not only warned about: a long-lived key pair in the stack is a liability even when unused.
        for (const key of ["awsAccessKeyId", "awsSecretAccessKey"] as const) {
            if (r.isSet(key)) {
                r.problem(
                    key,
                    `is set but credentialsMode is ${mode}; unused credentials are a liability. Fix: \`${rmCmd(key)}\` or \`${setCmd("credentialsMode", "staticKeys")}\`.`,
                );
            }
        }
    }
    return credentials;
}
