// The node test project finds its adapter through Dawn, as the package's Node entry does.
import '../../engine/adapter-node.ts';
