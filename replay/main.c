/* main.c - the aofroll command: restore, roll forward and inspect the
 * archive that aofroll-collector writes.
 *
 * `aofroll NAME ...` dispatches through the table below; each entry names
 * the function that runs the command (declared in commands.h, one file per
 * command), its usage line and its option table (in the command's file,
 * where it is parsed). `aofroll --help`, `aofroll help [NAME]` and
 * `aofroll NAME --help` print usage; `aofroll --version` the version. */
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "commands.h"
#include "config_path.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;         /* the arguments, one line */
    const char *summary;       /* what it does, one line */
    const struct opt *options; /* its option table (the --help list) */
};

static const struct command commands[] = {
    {"restore", cmd_restore,
     "[-c FILE] --instance NAME --to TIME --out DIR [--key GLOB]... [--db N]... [--stop-before PATTERN "
     "[--from TIME]] [--force] [--index FILE] [--start --port N [--bind ADDR] [-- REDIS-OPTIONS...]] | "
     "--target URL [--key GLOB]... [--db N]... [--dry-run] [--ttl keep|shift] [--json] [--force]\n"
     "       aofroll restore [-c FILE] --cluster NAME --to TIME --out DIR [--start --port N]",
     "rebuild an instance's data directory (or every shard of a Redis Cluster) as it was at TIME, or put "
     "keys back into a running server",
     cmd_restore_options},
    {"apply", cmd_apply,
     "[-c FILE] --instance NAME --to TIME --from-dir DIR --target redis://HOST:PORT [--stop-before PATTERN] "
     "[--force]",
     "roll a restored instance forward to a later TIME", cmd_apply_options},
    {"ls", cmd_ls, "[-c FILE] [--instance NAME | --cluster NAME] [--since TIME] [--until TIME] [--json]",
     "list the archive's chunks, with totals", cmd_ls_options},
    {"generations", cmd_generations, "[-c FILE] [--instance NAME | --cluster NAME] [--json]",
     "list the generations: base, incr bytes, time span, how each ended", cmd_generations_options},
    {"show", cmd_show, "[-c FILE] --instance NAME (--chunk ID | --at TIME) [--max-arg N] [--json]",
     "print the decoded commands of a chunk, or of the chunks around a second", cmd_show_options},
    {"log", cmd_log,
     "[-c FILE] --instance NAME --since TIME --until TIME [--key GLOB] [--cmd NAMES] [--max-arg N] [--json]",
     "print the commands written in a time window, filtered by key or command", cmd_log_options},
    {"timeline", cmd_timeline,
     "[-c FILE] --instance NAME [--since TIME] [--until TIME] [--by second|10s|minute|hour] [--cmd NAMES] "
     "[--svg FILE] [--json]",
     "chart the bytes and commands written per second, 10 s, minute or hour, with barriers and generations",
     cmd_timeline_options},
    {"verify", cmd_verify, "[-c FILE] [--instance NAME | --cluster NAME] [--quick] [--json]",
     "fetch and check every chunk; print the restorable windows", cmd_verify_options},
    {"status", cmd_status, "[-c FILE] [--instance NAME | --cluster NAME] [--json]",
     "show each collector's heartbeat, shipped offset and lag; exit 1 when a backup is not happening",
     cmd_status_options},
    {"prune", cmd_prune, "[-c FILE] [--instance NAME] [--dry-run] [--json]",
     "delete the generations the retention no longer needs", cmd_prune_options},
    {"reindex", cmd_reindex, "[-c FILE] [--instance NAME] [--no-index-copy]",
     "rebuild the index from the chunk objects in storage", cmd_reindex_options},
    {"delete", cmd_delete, "[-c FILE] --instance NAME --generation N [--force]",
     "remove one generation: its objects, then its index rows", cmd_delete_options},
    {"info", cmd_info, "[-c FILE] [--instance NAME] [--json]",
     "one screen per instance: restorable windows, newest second, generations, size, lag, last barrier",
     cmd_info_options},
    {"rekey", cmd_rekey, "[-c FILE] [--instance NAME [--generation N]]",
     "seal the older objects (plain, or sealed with another key) with the key file's newest key",
     cmd_rekey_options},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *command_find(const char *name)
{
    size_t i;

    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int commands_usage(FILE *fp, const char *name)
{
    const struct command *c = command_find(name);

    if (c == NULL)
        return -1;
    fprintf(fp, "usage: aofroll %s %s\n\n%s\n", c->name, c->usage, c->summary);
    fprintf(fp, "\noptions:\n");
    opt_usage(fp, c->options);
    fprintf(fp, "\nWithout -c FILE: the file named by AOFROLL_CONFIG, else %s.\n", config_path_default());
    return 0;
}

static void main_usage(FILE *fp)
{
    size_t i;

    fprintf(fp, "usage: aofroll COMMAND [OPTIONS]\n\n"
                "Restore and inspect the Redis AOF archive written by aofroll-collector.\n\n"
                "commands:\n");
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(fp, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp,
            "\n\"aofroll COMMAND --help\" shows a command's options.\n"
            "Without -c FILE: the file named by AOFROLL_CONFIG, else %s.\n"
            "Exit status: 0 ok, 1 operational failure, 2 bad usage.\n",
            config_path_default());
}

int main(int argc, char **argv)
{
    const struct command *c;
    const char *name;

    if (argc < 2) {
        main_usage(stderr);
        return 2;
    }
    name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        main_usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("aofroll %s\n", AOFROLL_VERSION);
        return 0;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            main_usage(stdout);
            return 0;
        }
        if (commands_usage(stdout, argv[2]) == 0)
            return 0;
        fprintf(stderr, "aofroll: unknown command \"%s\"\n", argv[2]);
        return 2;
    }
    c = command_find(name);
    if (c == NULL) {
        fprintf(stderr, "aofroll: unknown command \"%s\" (see \"aofroll --help\")\n", name);
        return 2;
    }
    if (cluster_inspects(name) && cluster_wanted(argc - 1, argv + 1)) /* shard by shard: cluster_inspect.c */
        return cluster_inspect_main(name, argc - 1, argv + 1);
    return c->run(argc - 1, argv + 1);
}
