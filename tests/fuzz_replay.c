/*
 * fuzz_replay - run a fuzz target over its corpus without libFuzzer, so
 * that "make check" replays every seed and every input that once crashed
 * or hung (the corpus keeps them). FUZZ_CORPUS names the directory.
 */
#include "pdconfig.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX (1024 * 1024 + 16)

int
main(void)
{
	DIR    *dp;
	struct dirent *de;
	char	path[4096];
	unsigned char *buf = malloc(REPLAY_MAX);
	size_t	n;
	FILE   *fp;
	int	count = 0;

	if (buf == 0 || (dp = opendir(FUZZ_CORPUS)) == 0) {
		perror(FUZZ_CORPUS);
		return (1);
	}
	while ((de = readdir(dp)) != 0) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", FUZZ_CORPUS, de->d_name);
		if ((fp = fopen(path, "rb")) == 0) {
			perror(path);
			return (1);
		}
		n = fread(buf, 1, REPLAY_MAX, fp);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, n);
		count++;
	}
	closedir(dp);
	free(buf);
	printf("%d inputs replayed from %s\n", count, FUZZ_CORPUS);
	/* An empty corpus means the test lost its input: fail. */
	return (count == 0);
}
