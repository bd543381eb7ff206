import type { ResourceValidationPolicy } from "@pulumi/policy";

import { parseDocument, statements } from "../lib/iam";
import { label, violation } from "../lib/message";
import { propsOf } from "../lib/policy";
import { T } from "../lib/types";
import { Json, arr, obj, str, strings } from "../lib/values";

/** The policy documents a resource carries: a policy's or role policy's `policy`, a role's inline policies. */
function documentsOf(type: string, props: Json): { where: string; value: unknown }[] {
    if (type === T.iamPolicy || type === T.iamRolePolicy) {
        return [{ where: "policy", value: props.policy }];
    }
    if (type === T.iamRole) {
        return (arr(props.inlinePolicies) ?? []).map((p, i) => ({
            where: `inlinePolicies[${i}] ${str(obj(p)?.name) ?? ""}`.trim(),
            value: obj(p)?.policy,
        }));
    }
    return [];
}

/** No `*`, no `service:*` and no `NotAction` in an Allow statement. */
export const iamPolicyNoWildcardActions: ResourceValidationPolicy = {
    name: "iam-policy-no-wildcard-actions",
    description:
        'Checks that no IAM policy allows "*", a service-wide wildcard such as "s3:*", or everything but a list (NotAction).',
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const must =
            'IAM policies must name the actions they allow: no "*", no service-wide wildcard such as "s3:*" and no NotAction.';
        const fix =
            "List the actions the role needs: the velero-plugin-for-aws README's minimum, scoped to the cluster's prefix (DESIGN §4, components/iam.ts).";
        for (const { where, value } of documentsOf(args.type, propsOf(args))) {
            const document = parseDocument(value);
            if (document === undefined) {
                report(
                    violation(
                        must,
                        `${label(args)} ${where} is not a valid JSON policy document`,
                        "Pass the document as JSON.stringify of a policy object.",
                    ),
                );
                continue;
            }
            statements(document).forEach((statement, i) => {
                if (str(statement.Effect) !== "Allow") {
                    return;
                }
                const name = `${label(args)} statement ${str(statement.Sid) ?? `#${i}`}`;
                if (statement.NotAction !== undefined) {
                    report(
                        violation(
                            must,
                            `${name} allows every action but ${strings(statement.NotAction).join(", ")} (NotAction)`,
                            fix,
                        ),
                    );
                }
                for (const action of strings(statement.Action)) {
                    if (action === "*" || /^[a-z0-9-]+:\*$/i.test(action)) {
                        report(violation(must, `${name} allows ${JSON.stringify(action)}`, fix));
                    }
                }
            });
        }
    },
};
