import sys, time, json
import test_ready as T
import unittest
class D(T.ReadyTest):
    def test_x(self):
        n1,n2,gate=self.gated_pair()
        t0=time.time()
        ask = self.background(n1, "ask", "echo@n2", '{"k":1}', "--timeout", "6s")
        send = self.background(n1, "send", "sink@n2", '{"k":2}', "--timeout", "6s")
        time.sleep(1.0)
        print("polls", ask.poll(), send.poll(), time.time()-t0)
        print(n1.cli("stats","--json").stdout)
        gate.open(); t1=time.time()
        T.wait_for(lambda: T.nodes_of(n1)["n2"]["routable"], 8)
        print("routable after %.2f"%(time.time()-t1), T.nodes_of(n1)["n2"])
        print(ask.communicate(), time.time()-t0)
        print(send.communicate())
        print(n1.logtext()[-3000:])
        print(n2.logtext()[-3000:])
unittest.main(defaultTest='D')
