/**
 * gitops-dr: one program for every stack. Config first, then the components, then the stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";

import { loadConfig } from "./components/config";
import { GitopsDr } from "./components/gitops-dr";

const config = loadConfig();
const dr = new GitopsDr(`${pulumi.getProject()}-${pulumi.getStack()}`, { config });

export const mode = config.mode;
export const clusterName = config.clusterName;
// The vault. A protect stack's bucketName, region, kmsKeyArn and prefix are what recover and drill stacks
// read through gitops-dr:sourceStack.
export const bucketName = dr.vault.bucketName;
export const bucketArn = dr.vault.bucketArn;
export const region = dr.vault.region;
export const kmsKeyArn = dr.vault.kmsKeyArn;
export const prefix = config.prefix;
export const sourcePrefix = dr.vault.sourcePrefix;
export const replica = dr.createdVault?.replica;
// Velero.
export const veleroRoleArn = dr.iam.roleArn;
export const veleroPolicyArns = dr.iam.policyArns;
export const veleroNamespace = dr.velero.namespace;
export const veleroScheduleNames = dr.velero.scheduleNames;
