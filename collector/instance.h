/* instance.h - one instance's thread (instance.c): the top of the
 * collector's layers. main.c sets up each struct instance (context.h)
 * and runs this in a thread of its own. */
#ifndef AOFROLL_INSTANCE_H
#define AOFROLL_INSTANCE_H

/* The thread body: run the instance (a struct instance *) according to
 * its collector's action. */
void *instance_thread(void *arg);

#endif
