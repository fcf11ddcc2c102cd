/* main.c - the aofroll command: restore, roll forward and inspect the
 * archive that aofroll-collector writes.
 *
 * `aofroll NAME ...` dispatches through the table below; each entry names
 * the function that runs the command (declared in commands.h, one file per
 * command) and its usage. `aofroll --help`, `aofroll help [NAME]` and
 * `aofroll NAME --help` print usage; `aofroll --version` the version. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config_path.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;   /* the arguments, one line */
    const char *summary; /* what it does, one line */
    const char *options; /* option details for NAME --help, may be NULL */
};

static const struct command commands[] = {
    {"restore", cmd_restore,
     "[-c FILE] --instance NAME --to TIME --out DIR [--stop-before PATTERN [--from TIME]] [--force] "
     "[--start --port N [--bind ADDR] [-- REDIS-OPTIONS...]]",
     "rebuild an instance's data directory as it was at TIME",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         instance to restore\n"
     "  --to TIME               restore to this second (RFC 3339, \"YYYY-MM-DD HH:MM:SS\" local, @UNIX,\n"
     "                          now); latest: the newest archived second. A TIME after the end of\n"
     "                          the archive is refused\n"
     "  --out DIR               data directory to write (empty or absent; not a symbolic link)\n"
     "  --stop-before PATTERN   cut just before the first command named in PATTERN\n"
     "                          (\"FLUSHALL,FLUSHDB\" or \"FLUSHALL|FLUSHDB\", any case) at or before TIME\n"
     "  --from TIME             with --stop-before: look for it from TIME on\n"
     "  --force                 write into a non-empty DIR, replacing an earlier restore in it (never\n"
     "                          what aofroll did not write, nor a DIR a running server uses)\n"
     "  --start                 start redis-server on DIR afterwards (needs --port)\n"
     "  --port N                port for --start, checked before anything is fetched; options after\n"
     "                          \"--\" go to redis-server\n"
     "  --bind ADDR             address --start listens on (default 127.0.0.1; also a unix socket in DIR)\n"},
    {"apply", cmd_apply,
     "[-c FILE] --instance NAME --to TIME --from-dir DIR --target redis://HOST:PORT [--stop-before PATTERN] "
     "[--force]",
     "roll a restored instance forward to a later TIME",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         instance the restore in DIR came from\n"
     "  --to TIME               roll forward to this second (as restore's: latest, now)\n"
     "  --stop-before PATTERN   stop just before the first command named in PATTERN after the position\n"
     "                          (\"FLUSHALL,FLUSHDB\"), or at TIME when none comes first\n"
     "  --from-dir DIR          directory written by \"aofroll restore\" (holds the position)\n"
     "  --target URL            redis://[user:password@]HOST:PORT or unix:///PATH\n"
     "  --force                 apply even when the target's keys differ from the recorded ones\n"},
    {"ls", cmd_ls, "[-c FILE] [--instance NAME] [--since TIME] [--until TIME] [--json]",
     "list the archive's chunks, with totals",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         only this instance (default: all)\n"
     "  --since TIME            only chunks observed at or after TIME\n"
     "  --until TIME            only chunks observed at or before TIME\n"
     "  --json                  one JSON document (docs/json.md)\n"},
    {"generations", cmd_generations, "[-c FILE] [--instance NAME] [--json]",
     "list the generations: base, incr bytes, time span, how each ended",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         only this instance (default: all)\n"
     "  --json                  one JSON document (docs/json.md)\n"},
    {"show", cmd_show, "[-c FILE] --instance NAME (--chunk ID | --at TIME) [--max-arg N] [--json]",
     "print the decoded commands of a chunk, or of the chunks around a second",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         instance whose archive to read\n"
     "  --chunk ID              the chunk with this id (see \"aofroll ls\")\n"
     "  --at TIME               the commands written in this second, within their chunks\n"
     "  --max-arg N             bytes of an argument shown before eliding it (default 64, 0: all)\n"
     "  --json                  one JSON document (docs/json.md)\n"},
    {"log", cmd_log,
     "[-c FILE] --instance NAME --since TIME --until TIME [--key GLOB] [--cmd NAMES] [--max-arg N] [--json]",
     "print the commands written in a time window, filtered by key or command",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         instance whose archive to read\n"
     "  --since TIME            first second of the window\n"
     "  --until TIME            last second of the window (inclusive)\n"
     "  --key GLOB              only commands with a key matching the Redis glob (user:*, order:[0-9]*)\n"
     "  --cmd NAMES             only these commands, \"SET,DEL\" or \"FLUSHALL|FLUSHDB\" (any case)\n"
     "  --max-arg N             bytes of an argument shown before eliding it (default 64, 0: all)\n"
     "  --json                  one JSON document (docs/json.md)\n"},
    {"timeline", cmd_timeline,
     "[-c FILE] --instance NAME [--since TIME] [--until TIME] [--by second|10s|minute|hour] [--cmd NAMES] "
     "[--svg FILE] [--json]",
     "chart the bytes and commands written per second, 10 s, minute or hour, with barriers and generations",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         instance whose archive to read\n"
     "  --since TIME            start of the chart (default: the archive's first second)\n"
     "  --until TIME            end of the chart (default: the archive's last second)\n"
     "  --by BUCKET             second, 10s, minute or hour (default: second up to 2 minutes, 10s up\n"
     "                          to 20 minutes, minute up to 3 hours, else hour)\n"
     "  --cmd NAMES             mark each command of these names (\"FLUSHALL,FLUSHDB\", any case)\n"
     "  --svg FILE              also write the chart as a standalone SVG\n"
     "  --json                  one JSON document (docs/json.md)\n"},
    {"verify", cmd_verify, "[-c FILE] [--instance NAME] [--quick] [--json]",
     "fetch and check every chunk; print the restorable windows",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         only this instance (default: all)\n"
     "  --quick                 check the index and the objects' presence and size only\n"
     "  --json                  one JSON document (docs/json.md)\n"},
    {"status", cmd_status, "[-c FILE] [--instance NAME] [--json]",
     "show each collector's heartbeat, shipped offset and lag; exit 1 when a backup is not happening",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         only this instance (default: all)\n"
     "  --json                  one JSON document (docs/json.md)\n"},
    {"prune", cmd_prune, "[-c FILE] [--instance NAME] [--dry-run] [--json]",
     "delete the generations the retention no longer needs",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         only this instance (default: all)\n"
     "  --dry-run               print what would be deleted, delete nothing\n"
     "  --json                  one JSON document (docs/json.md)\n"},
    {"reindex", cmd_reindex, "[-c FILE] [--instance NAME] [--no-index-copy]",
     "rebuild the index from the chunk objects in storage",
     "  -c, --config FILE       configuration file (the index is written where it says)\n"
     "  --instance NAME         only this instance (default: every configured one)\n"
     "  --no-index-copy         do not check chunks against the index copy in storage (one that\n"
     "                          cannot be read): adopt them by their names and CRCs alone\n"},
    {"delete", cmd_delete, "[-c FILE] --instance NAME --generation N [--force]",
     "remove one generation: its objects, then its index rows",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         instance whose generation to delete\n"
     "  --generation N          the generation (see \"aofroll generations\")\n"
     "  --force                 delete it even when it is the newest\n"},
    {"info", cmd_info, "[-c FILE] [--instance NAME] [--json]",
     "one screen per instance: restorable windows, newest second, generations, size, lag, last barrier",
     "  -c, --config FILE       configuration file\n"
     "  --instance NAME         only this instance (default: all)\n"
     "  --json                  one JSON document (docs/json.md)\n"},
    {"rekey", cmd_rekey, "[-c FILE] [--instance NAME [--generation N]]",
     "seal the older objects (plain, or sealed with another key) with the key file's newest key",
     "  -c, --config FILE       configuration file (its storage.encryption.key_file names the keys)\n"
     "  --instance NAME         only this instance (default: every configured one)\n"
     "  --generation N          only this generation of --instance (see \"aofroll generations\")\n"},
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
    if (c->options != NULL)
        fprintf(fp, "\noptions:\n%s", c->options);
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
    return c->run(argc - 1, argv + 1);
}
