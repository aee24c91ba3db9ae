package check

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// Op is one completed (or abandoned) operation of a history, for the linearizability check.
type Op struct {
	Client int
	Input  Input
	Output Output
	// Call and Return are when the client sent it and got its reply, on one clock. An Unknown
	// write never returned: its Return is ignored.
	Call, Return int64
}

// Model is the porcupine model of a group of keys.
var Model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byGroup := map[int][]porcupine.Operation{}
		for _, op := range history {
			g := op.Input.(Input).Group
			byGroup[g] = append(byGroup[g], op)
		}
		groups := make([]int, 0, len(byGroup))
		for g := range byGroup {
			groups = append(groups, g)
		}
		sort.Ints(groups)
		out := make([][]porcupine.Operation, 0, len(groups))
		for _, g := range groups {
			out = append(out, byGroup[g])
		}
		return out
	},
	Init: func() any { return State{} },
	Step: func(state, input, output any) (bool, any) {
		return Step(state.(State), input.(Input), output.(Output))
	},
	Equal: func(a, b any) bool { return a.(State) == b.(State) },
	DescribeOperation: func(input, output any) string {
		return fmt.Sprintf("%v -> %v", input.(Input), output.(Output))
	},
	DescribeState: func(state any) string { return state.(State).String() },
}

// Linearizable checks a history of operations against the model, each group of keys on its
// own. An Unknown write is given a return time after every other operation: it may take effect
// at any point after it was sent, or (observably the same) never.
func Linearizable(ops []Op, timeout time.Duration) (porcupine.CheckResult, porcupine.LinearizationInfo, []porcupine.Operation) {
	hist := make([]porcupine.Operation, 0, len(ops))
	var end int64
	for _, op := range ops {
		end = max(end, op.Call, op.Return)
	}
	late := int64(0)
	for _, op := range ops {
		ret := op.Return
		if op.Output.Unknown {
			late++
			ret = min(end+late, math.MaxInt64-1)
		}
		hist = append(hist, porcupine.Operation{ClientId: op.Client, Input: op.Input, Call: op.Call, Output: op.Output, Return: ret})
	}
	res, info := porcupine.CheckOperationsVerbose(Model, hist, timeout)
	return res, info, hist
}
