/** An ECR lifecycle rule most tests use: untagged manifests expire after 7 days. */
export const EXPIRE_UNTAGGED_RULE = {
  rulePriority: 1,
  description: 'Expire untagged manifests after 7 days',
  selection: {
    tagStatus: 'untagged',
    countType: 'sinceImagePushed',
    countUnit: 'days',
    countNumber: 7
  },
  action: { type: 'expire' }
}

/** A lifecycle policy file's text with that one rule. */
export const EXPIRE_UNTAGGED_POLICY = JSON.stringify({ rules: [EXPIRE_UNTAGGED_RULE] })
