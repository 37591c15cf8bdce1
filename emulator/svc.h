/* svc.h: the service tables the emulator's engine serves besides IVS low-latency (whose
 * store is store.c): IVS Chat (svc_chat.c) and IVS Real-Time (svc_realtime.c). */
#ifndef EMU_SVC_H
#define EMU_SVC_H

#include "engine.h"

extern const struct eng_service svc_chat;
extern const struct eng_service svc_realtime;

#endif
