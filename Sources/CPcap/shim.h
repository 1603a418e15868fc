#ifndef SOCKETTUTOR_CPCAP_SHIM_H
#define SOCKETTUTOR_CPCAP_SHIM_H
// libpcap's API, for Swift. Installed by `apt-get install libpcap-dev`.
#include <pcap/pcap.h>
#endif
