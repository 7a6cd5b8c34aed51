/*++
/* NAME
/*	store_config 3
/* SUMMARY
/*	open the store with the settings of postdrip.conf
/* SYNOPSIS
/*	#include "store/store.h"
/*
/*	STORE	*store_open_config(cf, flags, err)
/*	const CONFIG *cf;
/*	int	flags;
/*	char	**err;
/* DESCRIPTION
/*	store_open_config() opens the store under data_directory with
/*	the store_map_size, store_map_max and store_queue_max settings of
/*	cf and the STORE_RDONLY flag, as store_open() does. Every program
/*	opens its store through it, so that a new store setting is read
/*	in one place.
/* DIAGNOSTICS
/*	NULL with *err (to be freed with myfree()), as store_open().
/* SEE ALSO
/*	store(3), postdrip.conf(5)
/*--*/
#include "pdconfig.h"

#include <string.h>

#include "config/config.h"
#include "store/store.h"

/* store_open_config - store_open() with the settings of cf */

STORE  *
store_open_config(const CONFIG *cf, int flags, char **err)
{
	STORE_OPTS opts;

	memset(&opts, 0, sizeof(opts));
	opts.map_size = (size_t) config_int(cf, "store_map_size");
	opts.map_max = (size_t) config_int(cf, "store_map_max");
	opts.queue_max = (size_t) config_int(cf, "store_queue_max");
	opts.flags = flags;
	return (store_open(config_str(cf, "data_directory"), &opts, err));
}
