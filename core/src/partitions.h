/* partitions.h: the AWS partitions (aws, aws-cn, aws-eusc, the isolated ones, aws-us-gov)
 * and which one a region belongs to, as the endpoint rules' aws.partition function decides
 * it. The table is generated from models/partitions.json (scripts/gen-partitions.lua, `make
 * partitions`) into partitions_gen.c. */
#ifndef IVS_PARTITIONS_H
#define IVS_PARTITIONS_H

#include <stddef.h>

struct partition {
    const char *id;                     /* "aws", "aws-cn", ... */
    const char *region_regex;           /* POSIX extended, anchored with ^...$ */
    const char *const *regions;         /* the regions listed by name; NULL-terminated */
    const char *dns_suffix;             /* "amazonaws.com" */
    const char *dualstack_dns_suffix;   /* "api.aws" */
    const char *implicit_global_region; /* "us-east-1" */
    int supports_fips, supports_dualstack;
};

/* In the file's order, which decides ties. */
extern const struct partition partition_table[];
extern const size_t partition_count;

/* The partition of a region: the first whose region list names it or whose regex matches it,
 * else the first partition (aws), as botocore's rule-set library does. Never NULL. */
const struct partition *partition_for_region(const char *region);

#endif
