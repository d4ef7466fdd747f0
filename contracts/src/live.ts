// Live lessons: the sfu's socket.io signalling (event maps, request schemas, acks). Filled in by issue 5.
export {};
